"""dropscope: open, self-hostable crypto airdrop research, sourced and explainable."""

__version__ = "0.1.0"
