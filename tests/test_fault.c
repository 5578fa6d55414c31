/* Test fault injection (nn_fault.h): the NN_MPI_TEST_FAULT syntax, its errors, and when
 * counted and keyed points fire. */
#include "nn_test.h"
#include "nnmpi/nn_fault.h"

static void test_syntax(void)
{
    char err[NN_ERR_LEN] = "";
    const char *bad[][2] = {
        {"nope", "'nope': unknown fault point (known: write_enospc, stall_checkpoint, alloc_fail)"},
        {"write_enospc@0", "'write_enospc@0': expected write_enospc or write_enospc@N with N >= 1"},
        {"write_enospc@1:2", "expected write_enospc or write_enospc@N with N >= 1"},
        {"write_enospc@x", "'write_enospc@x': expected NAME or NAME@N[:N...]"},
        {"write_enospc@", "expected NAME or NAME@N[:N...]"},
        {"write_enospc@-1", "expected NAME or NAME@N[:N...]"},
        {"write_enospc@99999999999999999999", "expected NAME or NAME@N[:N...]"},
        {"stall_checkpoint", "'stall_checkpoint': stall_checkpoint takes 1 argument(s) after '@'"},
        {"stall_checkpoint@1:2:3", "expected NAME or NAME@N[:N...]"},
        {"write_enospc,write_enospc@2", "'write_enospc@2': fault point given twice"},
        {"write_enospc,,stall_checkpoint@3", "empty item"},
        {"alloc_fail@2", "'alloc_fail@2': alloc_fail takes 2 argument(s) after '@'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(nn_fault_configure("write_enospc", err) == NN_OK);
        CHECK(nn_fault_configure(bad[i][0], err) == NN_ERR);
        CHECK_CONTAINS(err, "NN_MPI_TEST_FAULT: ");
        CHECK_CONTAINS(err, bad[i][1]);
        CHECK(!nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL)); /* an error leaves no fault set */
    }
    CHECK(nn_fault_configure(NULL, err) == NN_OK);
    CHECK(nn_fault_configure("", err) == NN_OK);
    CHECK(strcmp(nn_fault_name(NN_FAULT_STALL_CHECKPOINT), "stall_checkpoint") == 0);
}

static void test_firing(void)
{
    char err[NN_ERR_LEN] = "";
    int64_t step;
    /* Nothing configured: nothing fires. */
    CHECK(nn_fault_configure(NULL, err) == NN_OK);
    for (int i = 0; i < 3; i++) CHECK(!nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL));
    step = 60;
    CHECK(!nn_fault_hit(NN_FAULT_STALL_CHECKPOINT, &step));

    /* Counted from the third event on; keyed by the step. */
    CHECK(nn_fault_configure("write_enospc@3,stall_checkpoint@60", err) == NN_OK);
    int fired[5];
    for (int i = 0; i < 5; i++) fired[i] = nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL);
    CHECK(!fired[0] && !fired[1] && fired[2] && fired[3] && fired[4]);
    step = 40;
    CHECK(!nn_fault_hit(NN_FAULT_STALL_CHECKPOINT, &step));
    step = 60;
    CHECK(nn_fault_hit(NN_FAULT_STALL_CHECKPOINT, &step));

    /* Configuring again starts the count afresh; the default N is 1. */
    CHECK(nn_fault_configure("write_enospc@2", err) == NN_OK);
    CHECK(!nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL) && nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL));
    CHECK(!nn_fault_hit(NN_FAULT_STALL_CHECKPOINT, &step));
    CHECK(nn_fault_configure("write_enospc", err) == NN_OK);
    CHECK(nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL));
}

/* alloc_fail@RANK:STAGE: only that stage's allocation, only on that rank. */
static void test_alloc_fail(void)
{
    char err[NN_ERR_LEN] = "";
    CHECK(nn_fault_configure("alloc_fail@2:5", err) == NN_OK);
    nn_fault_set_rank(0);
    void *p = nn_fault_alloc(NN_STAGE_MODEL, malloc(8));
    CHECK(p != NULL);
    free(p);
    nn_fault_set_rank(2);
    p = nn_fault_alloc(NN_STAGE_SUMS, malloc(8));
    CHECK(p != NULL);
    free(p);
    CHECK(nn_fault_alloc(NN_STAGE_MODEL, malloc(8)) == NULL); /* and the block is freed */
    CHECK(nn_fault_configure(NULL, err) == NN_OK);
    p = nn_fault_alloc(NN_STAGE_MODEL, malloc(8));
    CHECK(p != NULL);
    free(p);
    nn_fault_set_rank(0);
}

int main(void)
{
    test_syntax();
    test_firing();
    test_alloc_fail();
    return nn_test_finish("test_fault");
}
