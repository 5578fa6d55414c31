#include "nnmpi/nn_status.h"

#include <stdarg.h>

NnStatus nn_fail(char err[NN_ERR_LEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, NN_ERR_LEN, fmt, ap);
    va_end(ap);
    return NN_ERR;
}

NnStatus nn_refuse(char err[NN_ERR_LEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, NN_ERR_LEN, fmt, ap);
    va_end(ap);
    return NN_REFUSED;
}
