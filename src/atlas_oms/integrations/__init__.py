"""Third-party trading frameworks on Atlas (freqtrade): optional extras."""
