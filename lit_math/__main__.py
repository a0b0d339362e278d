from lit_math.cli import main

main()
