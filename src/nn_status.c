#include "nnmpi/nn_status.h"

#include <stdarg.h>

/* Formats the message; returns status. */
static NnStatus report(NnStatus status, char err[NN_ERR_LEN], const char *fmt, va_list ap)
{
    vsnprintf(err, NN_ERR_LEN, fmt, ap);
    return status;
}

NnStatus nn_fail(char err[NN_ERR_LEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NnStatus status = report(NN_ERR, err, fmt, ap);
    va_end(ap);
    return status;
}

NnStatus nn_refuse(char err[NN_ERR_LEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NnStatus status = report(NN_REFUSED, err, fmt, ap);
    va_end(ap);
    return status;
}
