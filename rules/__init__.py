"""ecrlint's built-in rules, one module per rule family."""

# Modules imported by the registry, in order. A new family adds its module name here.
BUILTIN_MODULES = ["parse_error", "images", "node_role", "fargate", "crossfile", "helm", "gitops"]
