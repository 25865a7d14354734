// CBLAS and OpenBLAS's runtime queries, from Debian's libopenblas-dev
// (the header lives in /usr/include/x86_64-linux-gnu via the alternatives system).
#include <cblas.h>
