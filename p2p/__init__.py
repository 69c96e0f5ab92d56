"""Cross-cutting code of the P2P delivery platform: settings, errors, security, CLI."""
