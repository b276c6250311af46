/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <math.h>

#include "test_util.h"

#include "eval_table.h"

/* Two categories of one method; B's I-AUROC is undefined. */
static struct cat_result cats_a[2] = {
    {(char *)"alpha", 10, 4, 1000, 5, {0.5, 0.6, 0.7, 0.8, 0.9, 0.6, 0.25}},
    {(char *)"beta", 6, 0, 600, 0, {NAN, 0.4, 0.3, 0.2, 0.1, 0.4, 0.75}},
};
static struct cat_result cats_b[2] = {
    {(char *)"alpha", 10, 4, 1000, 5, {0.7, 0.6, 0.7, 0.8, 0.9, 0.6, 0.25}},
    {(char *)"beta", 6, 0, 600, 0, {0.9, 0.4, 0.3, 0.2, 0.1, 0.4, 0.75}},
};

static struct eval
settings(enum format format)
{
	struct eval e = {0};

	e.format = format;
	e.limit = 0.3;
	for (int m = 0; m < NMETRICS; m++)
		e.metric_on[m] = true;
	return e;
}

/* The table as text (caller frees). */
static char *
print(const struct eval *e, const struct run *runs, size_t nruns)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	if (nruns == 1)
		eval_print_single(e, runs, f);
	else
		eval_print_methods(e, runs, nruns, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_eval_table_single_csv(void **state)
{
	struct run run = {(char *)"m", "dir", cats_a, 2};
	struct eval e = settings(FORMAT_CSV);
	char *t = print(&e, &run, 1);

	(void)state;
	assert_non_null(strstr(t,
	    "category,images,anomalous,pixels,regions,"
	    "i-auroc,i-ap,i-f1max,p-auroc,p-ap,p-f1max,"
	    "aupro\n"));
	assert_non_null(
	    strstr(t, "alpha,10,4,1000,5,0.5,0.59999999999999998,"));
	/* undefined: nan, and left out of the mean (I-AUROC mean = alpha's);
	 * AU-PRO mean (0.25 + 0.75) / 2 */
	assert_non_null(strstr(t, "beta,6,0,600,0,nan,"));
	assert_non_null(strstr(t, "\nmean,,,,,0.5,0.5,0.5,0.5,0.5,0.5,0.5\n"));
	free(t);
}

static void
test_eval_table_single_md_json(void **state)
{
	struct run run = {(char *)"m", "dir", cats_a, 2};
	struct eval e = settings(FORMAT_MD);
	char *t = print(&e, &run, 1);

	(void)state;
	/* percentages, n/a and the footnote naming the mean over 1 of 2 */
	assert_non_null(strstr(t, "| alpha"));
	assert_non_null(strstr(t, "50.00"));
	assert_non_null(strstr(t, "n/a"));
	assert_non_null(strstr(t, "I-AUROC over 1 of 2 categories"));
	free(t);
	e = settings(FORMAT_JSON);
	e.metric_on[M_I_AP] = false;
	t = print(&e, &run, 1);
	assert_non_null(strstr(t, "\"compat\":\t\"exact\""));
	assert_null(strstr(t, "\"i-ap\""));
	assert_non_null(strstr(t, "\"i-auroc\":\tnull"));
	assert_non_null(
	    strstr(t, "\"mean_categories\":\t{\n\t\t\"i-auroc\":\t1,"));
	free(t);
}

static void
test_eval_table_methods(void **state)
{
	struct run runs[2] = {
	    {(char *)"a", "da", cats_a, 2}, {(char *)"b", "db", cats_b, 2}};
	struct eval e = settings(FORMAT_CSV);
	char *t;

	(void)state;
	e.methods = "a,b";
	memset(e.metric_on, 0, sizeof e.metric_on);
	e.metric_on[M_I_AUROC] = true;
	t = print(&e, runs, 2);
	/* alpha: 0.5 and 0.7, mean 0.6, population std 0.1; beta: only b
	 * defined (std 0); the dataset row: the methods' means (0.5, 0.8),
	 * their mean, and the mean of the per-category stds */
	assert_non_null(strstr(t, "category,metric,a,b,mean,std\n"));
	assert_non_null(strstr(t,
	    "alpha,i-auroc,0.5,0.69999999999999996,"
	    "0.59999999999999998,0.09999999999999"));
	assert_non_null(strstr(t,
	    "beta,i-auroc,nan,0.90000000000000002,"
	    "0.90000000000000002,0\n"));
	assert_non_null(strstr(t,
	    "mean,i-auroc,0.5,0.80000000000000004,"
	    "0.65000000000000002,0.04999999999999"));
	free(t);
	e.format = FORMAT_TEX;
	t = print(&e, runs, 2);
	assert_non_null(strstr(t, "$\\pm$"));
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_table_single_csv),
	    cmocka_unit_test(test_eval_table_single_md_json),
	    cmocka_unit_test(test_eval_table_methods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
