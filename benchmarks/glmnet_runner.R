# R glmnet peer for benchmarks/peers.py: Rscript glmnet_runner.R <dir>
#
# <dir>/spec.txt holds "key value" lines written by peers.glmnet_run; the data are raw
# little-endian binary files (float64 unless stated): X.bin (column-major n x p) or, for
# sparse X, X_i.bin / X_p.bin (int32, 0-based CSC) and X_x.bin; y.bin; lambda.bin;
# foldid.bin (int32, 1-based, CV only). Only the glmnet()/cv.glmnet() call is inside
# system.time; a warm-up call precedes the `repeat` timed calls. Writes times.txt (elapsed
# seconds, one a line), beta.bin (p x L column-major: the path coefficients, or the
# full-data path of cv.glmnet) and, for CV, cvm.bin (mean CV error per lambda).
suppressMessages({library(glmnet); library(Matrix)})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
spec <- read.table(file.path(dir, "spec.txt"), stringsAsFactors = FALSE,
                   col.names = c("key", "value"))
S <- setNames(as.list(spec$value), spec$key)
num <- function(k) as.numeric(S[[k]])
rd <- function(name, n, what = "double", size = 8)
  readBin(file.path(dir, name), what = what, n = n, size = size, endian = "little")
n <- num("n"); p <- num("p"); L <- num("nlambda"); reps <- num("repeat")
if (S$sparse == "1") {
  nnz <- num("nnz")
  X <- sparseMatrix(i = rd("X_i.bin", nnz, "integer", 4), p = rd("X_p.bin", p + 1, "integer", 4),
                    x = rd("X_x.bin", nnz), dims = c(n, p), index1 = FALSE)
} else {
  X <- matrix(rd("X.bin", n * p), n, p)
}
y <- rd("y.bin", n)
lambda <- rd("lambda.bin", L)
# peak resident memory (kB) so far: with the data loaded, and again after the fits
hwm <- function() {
  l <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  if (length(l)) as.numeric(gsub("[^0-9]", "", l)) else NA
}
invisible(gc())
try(cat("5", file = "/proc/self/clear_refs"), silent = TRUE)  # forget the loading peak
hwm0 <- hwm()
# Fit the whole supplied grid: no early stop on deviance change or saturation.
glmnet.control(fdev = 0, devmax = 1)
intercept <- S$intercept == "1"
call <- function() {
  if (S$mode == "cv") {
    foldid <- rd("foldid.bin", n, "integer", 4)
    cv.glmnet(X, y, family = "gaussian", alpha = num("alpha"), lambda = lambda,
              foldid = foldid, standardize = FALSE, intercept = intercept,
              thresh = num("thresh"), maxit = 1e7, type.gaussian = S$type)
  } else {
    glmnet(X, y, family = "gaussian", alpha = num("alpha"), lambda = lambda,
           standardize = FALSE, intercept = intercept, thresh = num("thresh"),
           maxit = 1e7, type.gaussian = S$type)
  }
}
fit <- call()  # warm-up
times <- numeric(reps)
for (r in seq_len(reps)) times[r] <- system.time(fit <- call())[["elapsed"]]
writeLines(format(times, digits = 9), file.path(dir, "times.txt"))
writeLines(format(c(hwm0, hwm())), file.path(dir, "hwm.txt"))
path <- if (S$mode == "cv") fit$glmnet.fit else fit
beta <- as.matrix(path$beta)
writeBin(as.vector(beta), file.path(dir, "beta.bin"), size = 8, endian = "little")
writeLines(as.character(ncol(beta)), file.path(dir, "ncol.txt"))
if (S$mode == "cv") writeBin(as.numeric(fit$cvm), file.path(dir, "cvm.bin"), size = 8,
                             endian = "little")
