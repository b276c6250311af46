/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <string.h>

#include "fetch_catalogue.h"

/* MIRAD: the paper's statistical overview (tests/data/mirad_overview.json,
 * from wu33learn/MIRAD figures/Statistical_overview.png). */
static const struct fetch_count mirad_counts[] = {
    {"building_block", 262, 57, 158},
    {"chain_buckle", 197, 81, 141},
    {"geometric_block", 238, 55, 159},
    {"geometric_button", 290, 94, 188},
    {"geometric_snowflake", 215, 62, 163},
    {"magnetic_block", 268, 57, 204},
    {"magnetic_bookmark", 216, 48, 133},
    {"number_block", 254, 69, 151},
    {"number_snowflake", 230, 60, 236},
    {"rabbit_pendant", 228, 71, 204},
};

/* MVTec AD: from UniAD's listing of all 5,354 files. */
static const struct fetch_count mvtec_counts[] = {
    {"bottle", 209, 20, 63},
    {"cable", 224, 58, 92},
    {"capsule", 219, 23, 109},
    {"carpet", 280, 28, 89},
    {"grid", 264, 21, 57},
    {"hazelnut", 391, 40, 70},
    {"leather", 245, 32, 92},
    {"metal_nut", 220, 22, 93},
    {"pill", 267, 26, 141},
    {"screw", 320, 41, 119},
    {"tile", 230, 33, 84},
    {"toothbrush", 60, 12, 30},
    {"transistor", 213, 60, 40},
    {"wood", 247, 19, 60},
    {"zipper", 240, 32, 119},
};

/* VisA with its split_csv/1cls.csv split (tests/data/visa_split_csv). */
static const struct fetch_count visa_counts[] = {
    {"candle", 900, 100, 100},
    {"capsules", 542, 60, 100},
    {"cashew", 450, 50, 100},
    {"chewinggum", 453, 50, 100},
    {"fryum", 450, 50, 100},
    {"macaroni1", 900, 100, 100},
    {"macaroni2", 900, 100, 100},
    {"pcb1", 904, 100, 100},
    {"pcb2", 901, 100, 100},
    {"pcb3", 905, 101, 100},
    {"pcb4", 904, 101, 100},
    {"pipe_fryum", 450, 50, 100},
};

#define N(a) (sizeof(a) / sizeof *(a))

static const struct fetch_dataset catalogue[] = {
    {"mirad", "MIRAD", NULL, "1-4aMEtiTvk77Oo-oNW6WdPPuxpfHRKwq",
        "the MIRAD archive", NULL, 0, MIRAD_LAYOUT_MIRAD, mirad_counts,
        N(mirad_counts)},
    {"visa", "VisA",
        "https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/"
        "VisA_20220922.tar",
        NULL, "VisA_20220922.tar",
        "2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362", 0,
        MIRAD_LAYOUT_VISA, visa_counts, N(visa_counts)},
    {"mvtec-ad", "MVTec AD",
        "https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f283/"
        "download/420938113-1629960298/mvtec_anomaly_detection.tar.xz",
        NULL, "mvtec_anomaly_detection.tar.xz",
        "cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d", 0,
        MIRAD_LAYOUT_MVTEC, mvtec_counts, N(mvtec_counts)},
};

const struct fetch_dataset *
fetch_catalogue_find(const char *name)
{
	for (size_t i = 0; i < N(catalogue); i++)
		if (strcmp(catalogue[i].name, name) == 0)
			return &catalogue[i];
	return NULL;
}

const char *
fetch_catalogue_names(void)
{
	return "mirad, visa, mvtec-ad";
}

const struct fetch_count *
fetch_catalogue_count(const struct fetch_dataset *d, const char *category)
{
	for (size_t i = 0; i < d->ncounts; i++)
		if (strcmp(d->counts[i].category, category) == 0)
			return &d->counts[i];
	return NULL;
}

uint64_t
fetch_catalogue_max_entries(const struct fetch_dataset *d)
{
	uint64_t files = 0;

	for (size_t i = 0; i < d->ncounts; i++) {
		const struct fetch_count *c = &d->counts[i];

		files +=
		    c->train + c->test_normal + 2 * (uint64_t)c->test_abnormal;
	}
	return 4 * files + 1000;
}
