from omgml.cli import main

main()
