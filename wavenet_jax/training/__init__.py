"""Training as pure functions: the optimizer, the train and eval steps, and a run's setup."""
