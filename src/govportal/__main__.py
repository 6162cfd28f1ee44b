from govportal.cli import main

main()
