from tmplstudio.cli.main import main

raise SystemExit(main())
