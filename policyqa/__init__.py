"""The `policyqa` command: a thin composition root above rag, ui and eval (each contributes its subcommands)."""
