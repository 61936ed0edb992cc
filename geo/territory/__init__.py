"""territory: see DESIGN.md section 2."""
