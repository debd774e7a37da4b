"""What `text911` plugs into the center."""
