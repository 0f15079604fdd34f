"""StackOne webhooks: verify the signature on the raw bytes first, then act once per delivery."""
