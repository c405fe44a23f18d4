from attn_grade.cli import main

main()
