"""``python -m sklearn_normpen``: the demonstration (see issue 6; grows with the estimators)."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sklearn_normpen",
                                     description="sklearn_normpen demonstration")
    parser.add_argument("--output", default="normpen_demo", help="folder for the plots")
    parser.parse_args(argv)
    import sklearn_normpen
    print(f"sklearn_normpen {sklearn_normpen.__version__}: no estimator to demonstrate yet.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
