"""Tutorial stage 4: many dice rolled concurrently, each roll a span of its own."""
