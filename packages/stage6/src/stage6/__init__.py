"""Tutorial stage 6: stage 5 with faults switched at runtime, so a learner can cause an incident."""
