from cloudlabmanager.cli import main

raise SystemExit(main())
