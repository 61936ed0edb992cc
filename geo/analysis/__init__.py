"""analysis: see DESIGN.md section 2."""
