from yigongti.cli import main

main()
