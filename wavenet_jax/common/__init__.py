"""What every layer shares: config checks and their errors, figures, atomic file writes."""
