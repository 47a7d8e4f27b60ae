"""One module per `tmplstudio` command; each defines register(subparsers) and ORDER."""
