"""Tutorial stage 6: faults switched while everything runs, so a learner can cause an incident."""
