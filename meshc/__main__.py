from meshc.cli.app import main

main()
