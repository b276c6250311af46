/* SPDX-License-Identifier: MIT */
/*
 * mirad-augment node profiles: parsing and validation (cJSON), the
 * built-in profiles, keyed random draws and per-(image, variant) parameter
 * sampling.  The format is documented in mirad-profile(5).
 *
 * Every random number is a pure function of (run seed, profile digest,
 * scope key, effect index, parameter name, draw index): no stream is shared
 * between images, so outputs do not depend on order, shards or threads.
 * Parameter draws leave the severity out of the key ("common random
 * numbers"), so a severity sweep moves every parameter in one direction.
 */
#ifndef AUGMENT_PROFILE_H
#define AUGMENT_PROFILE_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* Effects in their canonical (physical) order; a profile must list them
 * in this order, each at most once. */
enum augment_effect_type {
	AUGMENT_VIEWPOINT = 0,
	AUGMENT_LENS_DISTORTION,
	AUGMENT_BACKGROUND,
	AUGMENT_ILLUMINATION,
	AUGMENT_GLARE,
	AUGMENT_VIGNETTING,
	AUGMENT_DEFOCUS,
	AUGMENT_MOTION_BLUR,
	AUGMENT_EXPOSURE,
	AUGMENT_SENSOR_NOISE,
	AUGMENT_WHITE_BALANCE,
	AUGMENT_TONE_CURVE,
	AUGMENT_RESOLUTION,
	AUGMENT_JPEG,
	AUGMENT_NEFFECTS
};

#define AUGMENT_MAX_PARAMS  8
#define AUGMENT_MAX_DIMS    3
#define AUGMENT_MAX_CHOICES 4

/* A numeric parameter of an effect. */
struct augment_param_def {
	const char *name;
	int dims;          /* 1 scalar, 2 position, 3 colour */
	double min, max;   /* allowed values */
	double def;        /* value when the key is absent */
	const char *unit;  /* for --explain and --list-effects */
	const char *alias; /* a string accepted instead of a number (e.g.
	                      "brooks2019" for read_b) or NULL */
};

/* A string option of an effect ("model", "mode", ...). */
struct augment_choice_def {
	const char *name;
	const char *values[AUGMENT_MAX_CHOICES + 1]; /* NULL-terminated;
	                                                 first = default */
};

struct augment_effect_def {
	const char *name;
	const char *summary;
	bool geometric; /* moves pixels: masks are warped too */
	struct augment_param_def params[AUGMENT_MAX_PARAMS];
	struct augment_choice_def choices[2];
};

/* The definition of effect TYPE; borrowed, static. */
const struct augment_effect_def *augment_effect_def(
    enum augment_effect_type type);

/* One effect of a parsed profile. */
struct augment_effect {
	enum augment_effect_type type;
	bool node_scope;                         /* else per image */
	const cJSON *p;                          /* probability spec or NULL */
	const cJSON *params[AUGMENT_MAX_PARAMS]; /* spec or NULL (default) */
	int choice[2];                           /* index into values[] */
};

struct augment_profile {
	char *name;        /* owned */
	char *description; /* owned, may be "" */
	char *source;      /* file name or "builtin:NAME"; owned */
	uint64_t seed;     /* the profile's default run seed */
	int severity;      /* the profile's default severity, 1..5 */
	char digest[65];   /* SHA-256 of the canonical (unformatted) JSON */
	struct augment_effect effects[AUGMENT_NEFFECTS];
	size_t neffects;
	bool geometric; /* any geometric effect present */
	cJSON *json;    /* the parsed document; owned */
};

/*
 * Parse profile TEXT (LEN bytes) named NAME (for messages) into OUT.
 * Returns 0, or -1 with "NAME:LINE: reason" (or "NAME: reason") in ERR.
 * Free with augment_profile_free().
 */
int augment_profile_parse(const char *text, size_t len, const char *name,
    struct augment_profile *out, char *err, size_t errlen);
/*
 * Load NAME_OR_FILE: a built-in profile name (node1..node6, identity) or a
 * JSON file.  Returns 0 or -1 with a reason in ERR.
 */
int augment_profile_load(const char *name_or_file, struct augment_profile *out,
    char *err, size_t errlen);
void augment_profile_free(struct augment_profile *p);

/* The built-in profiles: NAME and the JSON text (borrowed, static), for
 * i < augment_builtin_count(); generated from examples/profiles/. */
size_t augment_builtin_count(void);
const char *augment_builtin_name(size_t i);
const char *augment_builtin_text(size_t i);
/* The text of built-in NAME or NULL. */
const char *augment_builtin_find(const char *name);

/* Keyed randomness. */
uint64_t augment_mix64(uint64_t x);
uint64_t augment_fnv1a64(const char *s);
/* h = mix64(run_seed); for each part: h = mix64(h ^ fnv1a64(part)).
 * PARTS is NULL-terminated. */
uint64_t augment_key(uint64_t run_seed, const char *const *parts);
/* A uniform double in [0, 1) from a key. */
double augment_u01(uint64_t k);
/* Parse "0x..." hex or decimal into a 64-bit seed. */
int augment_parse_seed(const char *s, uint64_t *out);

/* Where the draws of one output come from. */
struct augment_draw_ctx {
	uint64_t run_seed;
	const char *image_id; /* canonical relative image path */
	unsigned variant;     /* 0..variants-1 */
	int severity;         /* 1..5 */
};

/* The sampled parameters of one output. */
struct augment_sample {
	bool applied[AUGMENT_NEFFECTS]; /* indexed like profile->effects */
	double value[AUGMENT_NEFFECTS][AUGMENT_MAX_PARAMS][AUGMENT_MAX_DIMS];
	uint64_t aux_seed[AUGMENT_NEFFECTS]; /* for pixel noise, corners */
	bool read_b_from_a;                  /* sensor_noise read_b alias */
};

/*
 * Draw every parameter of profile P for CTX into OUT.  Returns 0, or -1
 * when a spec cannot be evaluated (cannot happen for a validated profile).
 */
int augment_profile_sample(const struct augment_profile *p,
    const struct augment_draw_ctx *ctx, struct augment_sample *out);

/* The sampled parameters of effect I as a JSON object (caller deletes). */
cJSON *augment_sample_to_json(
    const struct augment_profile *p, const struct augment_sample *s, size_t i);

/* Print what each effect does at severities 1..5 (--explain). */
void augment_profile_explain(const struct augment_profile *p, FILE *out);
/* Print the effects and their parameters (--list-effects). */
void augment_list_effects(FILE *out);

#endif
