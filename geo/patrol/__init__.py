"""patrol: see DESIGN.md section 2."""
