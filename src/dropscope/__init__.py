"""dropscope: open, self-hostable crypto airdrop research with sourced data and explainable scores."""

__version__ = "0.1.0"
