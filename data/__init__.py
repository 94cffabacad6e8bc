"""The bundled documents, shipped as package data (`policyqa_data`) so an installed wheel finds them."""
