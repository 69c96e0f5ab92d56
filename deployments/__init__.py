"""One module per service, plus the kit that turns each into a Serve application."""
