"""demo: see DESIGN.md section 2."""
