"""Training: staged-loss configuration, optimisers and schedules, the epoch loop."""
