"""problems: see DESIGN.md section 2."""
