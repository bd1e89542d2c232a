"""Tutorial stage 1: one service, a fair die and a risky one."""
