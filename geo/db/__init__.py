"""db: see DESIGN.md section 2."""
