"""What a command or page shows, read from the store and computed."""
