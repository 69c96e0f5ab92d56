"""Risk scoring: features, training, evaluation, model registry, batch scoring tasks (later issues)."""
