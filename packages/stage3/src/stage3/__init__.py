"""Tutorial stage 3: a die-service serves the dice; the dice-roller asks it for each roll."""
