/* The learning-rate schedules and the linear warm-up (nn_lr_at, nn_warmup_steps): pure
 * functions of the position, tested without MPI. The warm-up multiplies each schedule by
 * min(1, (t + 1) / W), t the global step, on the schedule's own clock from step 0. */
#include <math.h>

#include "nn_test.h"
#include "nnmpi/nn_optim.h"

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fabs(b);
}

static NnConfig schedule(NnLrSchedule kind)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.learning_rate = 0.1;
    cfg.lr_schedule = kind;
    cfg.epochs = 3;
    cfg.lr_step_epochs = 1;
    cfg.lr_gamma = 0.5;
    cfg.lr_min = 0.01;
    return cfg;
}

/* The schedule alone, as README states it, at global step t of spe steps per epoch. */
static double expected_base(const NnConfig *cfg, int64_t t, int64_t spe)
{
    switch (cfg->lr_schedule) {
    case NN_LR_CONSTANT: return cfg->learning_rate;
    case NN_LR_STEP: return cfg->learning_rate * pow(cfg->lr_gamma, (double)(t / spe));
    case NN_LR_COSINE: {
        double total = (double)cfg->epochs * spe;
        return cfg->lr_min +
               (cfg->learning_rate - cfg->lr_min) * 0.5 * (1 + cos(M_PI * (double)t / total));
    }
    }
    return NAN;
}

static void test_schedules(void)
{
    const int64_t spe = 7;
    for (int kind = NN_LR_CONSTANT; kind <= NN_LR_COSINE; kind++) {
        for (int64_t w = 0; w <= 12; w += 4) { /* no warm-up; within epoch 1; into epoch 2 */
            NnConfig cfg = schedule((NnLrSchedule)kind);
            cfg.warmup_steps = w;
            CHECK(nn_warmup_steps(&cfg, spe) == w);
            double previous = 0.0;
            for (int64_t t = 0; t < cfg.epochs * spe; t++) {
                double lr = nn_lr_at(&cfg, t / spe, t % spe, spe);
                double factor = w > 0 && t + 1 < w ? (double)(t + 1) / (double)w : 1.0;
                CHECK(near(lr, expected_base(&cfg, t, spe) * factor));
                if (w > 0 && t < w && kind == NN_LR_CONSTANT) CHECK(lr > previous); /* rising */
                previous = lr;
            }
            /* From ~0: the first step takes 1/W of the rate; step W-1 the full rate. */
            if (w > 0) {
                CHECK(near(nn_lr_at(&cfg, 0, 0, spe), expected_base(&cfg, 0, spe) / (double)w));
                CHECK(near(nn_lr_at(&cfg, (w - 1) / spe, (w - 1) % spe, spe),
                           expected_base(&cfg, w - 1, spe)));
            }
            /* The schedule's clock starts at 0: cosine still ends at lr_min. */
            if (kind == NN_LR_COSINE)
                CHECK(near(nn_lr_at(&cfg, cfg.epochs, 0, spe), cfg.lr_min));
        }
    }
    /* Known values: constant 0.1, W = 4: 0.025, 0.05, 0.075, 0.1, 0.1. */
    NnConfig cfg = schedule(NN_LR_CONSTANT);
    cfg.warmup_steps = 4;
    const double want[] = {0.025, 0.05, 0.075, 0.1, 0.1};
    for (int t = 0; t < 5; t++) CHECK(near(nn_lr_at(&cfg, 0, t, 100), want[t]));
    /* Step schedule, W = 10 over epochs of 7: step 8 (epoch 2, step 1) is halved and 9/10. */
    cfg = schedule(NN_LR_STEP);
    cfg.warmup_steps = 10;
    CHECK(near(nn_lr_at(&cfg, 1, 1, 7), 0.05 * 0.9));
}

static void test_warmup_epochs(void)
{
    NnConfig cfg = schedule(NN_LR_CONSTANT);
    cfg.warmup_epochs = 2;
    CHECK(nn_warmup_steps(&cfg, 7) == 14);
    CHECK(near(nn_lr_at(&cfg, 1, 0, 7), 0.1 * 8.0 / 14.0));
    cfg.warmup_epochs = 0.5; /* 3.5 steps: rounded to 4 */
    CHECK(nn_warmup_steps(&cfg, 7) == 4);
    cfg.warmup_epochs = 0.1; /* 0.7 steps: 1, a warm-up that changes nothing */
    CHECK(nn_warmup_steps(&cfg, 7) == 1);
    CHECK(nn_lr_at(&cfg, 0, 0, 7) == 0.1);
    cfg.warmup_epochs = 0.3; /* 6 steps of 20 (rounded, not ceil of a product near 6) */
    CHECK(nn_warmup_steps(&cfg, 20) == 6);
    cfg.warmup_epochs = 0;
    CHECK(nn_warmup_steps(&cfg, 7) == 0);
}

static void test_config(void)
{
    NnConfig cfg;
    char err[NN_ERR_LEN];
    nn_config_defaults(&cfg);
    CHECK(cfg.warmup_epochs == 0 && cfg.warmup_steps == 0 && cfg.clip_grad_norm == 0 &&
          cfg.augment == 0);
    CHECK(nn_config_check(&cfg, err) == NN_OK);
    CHECK(nn_config_parse("[train]\nwarmup_epochs = 1.5\nclip_grad_norm = 2\n[data]\naugment "
                          "= 2\n",
                          "a.ini", &cfg, err) == NN_OK);
    CHECK(cfg.warmup_epochs == 1.5 && cfg.clip_grad_norm == 2 && cfg.augment == 2);
    CHECK(nn_config_check(&cfg, err) == NN_OK);
    CHECK(nn_config_set(&cfg, "train.warmup_steps=100", err) == NN_OK);
    CHECK(nn_config_check(&cfg, err) == NN_ERR);
    CHECK_STREQ(err, "[train] warmup_epochs = 1.5 and warmup_steps = 100: give one of them");
    CHECK(nn_config_set(&cfg, "train.warmup_epochs=0", err) == NN_OK);
    CHECK(nn_config_check(&cfg, err) == NN_OK);
    CHECK(nn_config_parse("[train]\nwarmup_steps = 2.5\n", "b.ini", &cfg, err) == NN_ERR);
    CHECK_CONTAINS(err, "b.ini:2: [train] warmup_steps = 2.5: expected an integer");
    CHECK(nn_config_parse("[train]\nclip_grad_norm = -1\n", "c.ini", &cfg, err) == NN_ERR);
    CHECK_CONTAINS(err, "c.ini:2: [train] clip_grad_norm = -1");
}

int main(void)
{
    test_schedules();
    test_warmup_epochs();
    test_config();
    return nn_test_finish("test_schedule");
}
