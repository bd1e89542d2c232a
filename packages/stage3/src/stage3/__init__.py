"""Tutorial stage 3: a die-service serves die specifications; the dice-roller asks it first."""
