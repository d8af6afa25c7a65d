"""Scores beyond a kind's eval sums: whole clips, the MFCC baseline, resynthesised speech."""
