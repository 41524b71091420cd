"""The extractive reader czqa trains itself: data loading, training, numpy inference, answering."""
