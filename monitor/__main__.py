from .cli import main

if __name__ == "__main__":  # a worker process imports this module as __mp_main__ (answers.Reading)
    main()
