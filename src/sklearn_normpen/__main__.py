"""``python -m sklearn_normpen``: the demonstration (see :mod:`sklearn_normpen._demo`)."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_normpen",
        description="Fit the package's cross-validated estimators (ElasticNetPathCV, "
                    "GroupLassoPathCV, SpectralRidgeCV) on the diabetes data bundled with "
                    "scikit-learn, print alpha_min_, alpha_1se_, the number of non-zero "
                    "coefficients and the held-out R2 for both rules, and write the "
                    "coefficient-path and CV-curve plots as PNG files.")
    parser.add_argument("--output", default="normpen_demo", metavar="DIR",
                        help="folder for the PNG plots (created if needed; "
                             "default: %(default)s)")
    parser.add_argument("--no-plots", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    from ._demo import run

    run(output=args.output, plots=not args.no_plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
