"""traffic-gen: realistic traffic for every tutorial stage and demo app."""
