"""The corpus builders: raw audio trees and TFDS catalog entries made into prepared TFDS datasets."""
