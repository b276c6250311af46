/* SPDX-License-Identifier: MIT */
/*
 * mirad-augment profiles: definitions of the effects, profile parsing and
 * validation, keyed random draws and parameter sampling.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment_profile.h"
#include "mirad_err.h"

#define PROFILE_FORMAT "mirad-augment/profile@1"

/* clang-format off */
static const struct augment_effect_def effect_defs[AUGMENT_NEFFECTS] = {
    [AUGMENT_VIEWPOINT] = {"viewpoint",
	"small camera pose change: rotation, scale, shift, perspective",
	true,
	{{"rotate_deg", 1, -45, 45, 0, "degrees", NULL},
	 {"scale", 1, 0.5, 2, 1, "factor", NULL},
	 {"shift_x", 1, -0.5, 0.5, 0, "fraction of the width", NULL},
	 {"shift_y", 1, -0.5, 0.5, 0, "fraction of the height", NULL},
	 {"perspective_corner", 1, 0, 0.2, 0,
	  "max corner displacement, fraction of the side", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_LENS_DISTORTION] = {"lens_distortion",
	"radial Brown-Conrady distortion (inverse map; k1 > 0 is barrel)",
	true,
	{{"k1", 1, -0.5, 0.5, 0, "at the half-diagonal", NULL},
	 {"k2", 1, -0.5, 0.5, 0, "at the half-diagonal", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_BACKGROUND] = {"background",
	"tint or replace the background found from the image border, "
	"never inside the (dilated) defect mask",
	false,
	{{"target_rgb", 3, 0, 255, 128, "sRGB 0-255", NULL},
	 {"delta_e_threshold", 1, 0, 100, 12, "CIE76 dE to the border colour",
	  NULL},
	 {"protect_defects", 1, 0, 0.2, 0.01,
	  "mask dilation, fraction of the long side", NULL},
	 {"feather", 1, 0, 0.05, 0.002, "fraction of the long side", NULL},
	 {"strength", 1, 0, 1, 1, "blend weight", NULL},
	 {"border", 1, 0.005, 0.25, 0.03, "border band, fraction of the short "
	  "side", NULL}},
	{{"mode", {"tint", "replace", NULL}}}},
    [AUGMENT_ILLUMINATION] = {"illumination",
	"multiplicative irradiance field: linear ramp, point light or "
	"smooth random field",
	false,
	{{"gain", 1, 0, 1, 0, "strength (0 = uniform light)", NULL},
	 {"angle_deg", 1, -360, 360, 0, "ramp direction, degrees", NULL},
	 {"position", 2, -2, 3, 0.5, "lamp x, y as fractions of width, height",
	  NULL},
	 {"height", 1, 0.01, 100, 1, "lamp height, fraction of the long side",
	  NULL},
	 {"cell_size", 1, 0.01, 2, 0.25, "field cell, fraction of the long "
	  "side", NULL}},
	{{"model", {"ramp", "point_light", "field", NULL}}}},
    [AUGMENT_GLARE] = {"glare",
	"additive veiling glare: a Gaussian blob plus uniform haze",
	false,
	{{"position", 2, -1, 2, 0.5, "x, y as fractions of width, height",
	  NULL},
	 {"radius", 1, 0.001, 2, 0.2, "sigma, fraction of the long side", NULL},
	 {"amplitude", 1, 0, 2, 0, "linear radiance at the centre", NULL},
	 {"haze", 1, 0, 1, 0, "uniform linear radiance", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_VIGNETTING] = {"vignetting",
	"natural cos^4 fall-off",
	false,
	{{"corner_falloff", 1, 0.05, 1, 1, "corner / centre irradiance", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_DEFOCUS] = {"defocus",
	"anti-aliased disk PSF in linear light",
	false,
	{{"radius", 1, 0, 0.05, 0, "fraction of the long side", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_MOTION_BLUR] = {"motion_blur",
	"box line PSF (conveyor motion during the exposure)",
	false,
	{{"length", 1, 0, 0.1, 0, "fraction of the long side", NULL},
	 {"angle_deg", 1, -360, 360, 0, "degrees from +x", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_EXPOSURE] = {"exposure",
	"exposure gain 2^EV in linear light, clipped at full well",
	false,
	{{"ev", 1, -6, 6, 0, "EV", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_SENSOR_NOISE] = {"sensor_noise",
	"Poisson-Gaussian noise, variance a*x + b in linear light",
	false,
	{{"shot_a", 1, 0, 0.1, 0, "linear", NULL},
	 {"read_b", 1, 0, 0.01, 0, "linear variance", "brooks2019"}},
	{{NULL, {NULL}}}},
    [AUGMENT_WHITE_BALANCE] = {"white_balance",
	"colour temperature cast via Bradford adaptation",
	false,
	{{"cct_k", 1, 1667, 25000, 6504, "kelvin", NULL},
	 {"reference_k", 1, 1667, 25000, 6504, "kelvin (camera white)", NULL}},
	{{"locus", {"planckian", "daylight", NULL}}}},
    [AUGMENT_TONE_CURVE] = {"tone_curve",
	"camera tone curve on encoded values: gamma, then contrast",
	false,
	{{"gamma", 1, 0.2, 5, 1, "exponent", NULL},
	 {"contrast", 1, 0, 3, 1, "slope about mid-grey", NULL}},
	{{NULL, {NULL}}}},
    [AUGMENT_RESOLUTION] = {"resolution",
	"lower sensor resolution: downsample, then back to the input size",
	false,
	{{"scale", 1, 0.05, 1, 1, "linear factor", NULL}},
	{{"down_kernel", {"lanczos3", "cubic", "linear", "nearest", NULL}},
	 {"up_kernel", {"cubic", "linear", "nearest", "lanczos3", NULL}}}},
    [AUGMENT_JPEG] = {"jpeg",
	"JPEG encode/decode round trip",
	false,
	{{"quality", 1, 1, 100, 90, "Q", NULL}},
	{{"subsample", {"on", "off", "auto", NULL}}}},
};
/* clang-format on */

const struct augment_effect_def *
augment_effect_def(enum augment_effect_type type)
{
	return &effect_defs[type];
}

static size_t
nparams(const struct augment_effect_def *d)
{
	size_t n = 0;

	while (n < AUGMENT_MAX_PARAMS && d->params[n].name != NULL)
		n++;
	return n;
}

/* Keyed randomness: each draw depends only on the run seed and the names
 * it is keyed by, so it is the same in every order, thread and shard. */

uint64_t
augment_mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t
augment_fnv1a64(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t
augment_key(uint64_t run_seed, const char *const *parts)
{
	uint64_t h = augment_mix64(run_seed);

	for (; *parts != NULL; parts++)
		h = augment_mix64(h ^ augment_fnv1a64(*parts));
	return h;
}

double
augment_u01(uint64_t k)
{
	return (double)(k >> 11) * 0x1.0p-53;
}

int
augment_parse_seed(const char *s, uint64_t *out)
{
	char *end;
	int base = 10;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (*s == '\0')
			return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Source positions for messages: cJSON keeps none, so search the text. */

struct source {
	const char *text;
	size_t len;
	const char *name;
	size_t effect_off[AUGMENT_NEFFECTS + 8];
	size_t neffect_off;
};

static int
line_at(const struct source *src, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < src->len; i++)
		if (src->text[i] == '\n')
			line++;
	return line;
}

/* Offset of the first "KEY" at or after FROM, or FROM when absent. */
static size_t
find_key(const struct source *src, const char *key, size_t from)
{
	char *quoted = mirad_xasprintf("\"%s\"", key);
	size_t n = strlen(quoted), result = from;

	for (size_t i = from; i + n <= src->len; i++)
		if (memcmp(src->text + i, quoted, n) == 0) {
			result = i;
			break;
		}
	free(quoted);
	return result;
}

/* Record where each element object of the "effects" array starts. */
static void
find_effects(struct source *src)
{
	size_t i = find_key(src, "effects", 0);
	int depth = 0;
	bool in_string = false;

	src->neffect_off = 0;
	if (i + 9 > src->len || memcmp(src->text + i, "\"effects\"", 9) != 0)
		return;
	for (i += 9; i < src->len; i++) {
		char c = src->text[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (c == '{' && depth == 1 &&
			    src->neffect_off < sizeof src->effect_off /
			            sizeof *src->effect_off)
				src->effect_off[src->neffect_off++] = i;
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				break;
		}
	}
}

static size_t
effect_offset(const struct source *src, int effect)
{
	if (effect >= 0 && (size_t)effect < src->neffect_off)
		return src->effect_off[effect];
	return 0;
}

/* Report "NAME:LINE: effect N (TYPE): MESSAGE" at KEY's position. */
static int MIRAD_PRINTF(6, 7) fail(const struct source *src, int effect,
    const char *key, char *err, size_t errlen, const char *fmt, ...)
{
	size_t off = effect_offset(src, effect);
	char msg[512];
	va_list ap;

	if (key != NULL)
		off = find_key(src, key, off);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (effect >= 0)
		snprintf(err, errlen, "%s:%d: effect %d: %s", src->name,
		    line_at(src, off), effect + 1, msg);
	else
		snprintf(err, errlen, "%s:%d: %s", src->name, line_at(src, off),
		    msg);
	return -1;
}

static const char *
find_duplicate(const cJSON *node)
{
	const cJSON *a, *b, *c;
	const char *d;

	cJSON_ArrayForEach(a, node)
	{
		if (cJSON_IsObject(node) && a->string != NULL)
			for (b = a->next; b != NULL; b = b->next)
				if (b->string != NULL &&
				    strcmp(a->string, b->string) == 0)
					return a->string;
	}
	cJSON_ArrayForEach(c, node)
	{
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    (d = find_duplicate(c)) != NULL)
			return d;
	}
	return NULL;
}

/* Value specs. */

static bool
is_pair(const cJSON *j)
{
	return cJSON_IsArray(j) && cJSON_GetArraySize(j) == 2 &&
	    cJSON_IsNumber(cJSON_GetArrayItem(j, 0)) &&
	    cJSON_IsNumber(cJSON_GetArrayItem(j, 1));
}

static const char *const spec_keys[] = {"uniform", "log_uniform", "normal",
    "choice", "by_severity", "lerp_severity", NULL};

/* The distribution key of an object spec, or NULL.  "clip" and "crn" are
 * modifiers. */
static const cJSON *
spec_kind(const cJSON *spec, const char **kind)
{
	const cJSON *item;

	*kind = NULL;
	cJSON_ArrayForEach(item, spec)
	{
		for (size_t k = 0; spec_keys[k] != NULL; k++)
			if (strcmp(item->string, spec_keys[k]) == 0) {
				*kind = spec_keys[k];
				return item;
			}
	}
	return NULL;
}

static bool
in_range(double v, const struct augment_param_def *d)
{
	return isfinite(v) && v >= d->min && v <= d->max;
}

static const char *check_scalar(const cJSON *spec,
    const struct augment_param_def *d, int depth, char *buf, size_t buflen);

/* Each spec of the list BODY, checked as a scalar; NULL or a message. */
static const char *
check_each(const cJSON *body, const struct augment_param_def *d, int depth,
    char *buf, size_t buflen)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, body)
	{
		const char *m = check_scalar(item, d, depth + 1, buf, buflen);

		if (m != NULL)
			return m;
	}
	return NULL;
}

/* The check of one distribution: SPEC is the object, BODY its KIND
 * member.  NULL or a message (in BUF). */
typedef const char *(*spec_check)(const cJSON *spec, const cJSON *body,
    const char *kind, const struct augment_param_def *d, int depth, char *buf,
    size_t buflen);

static const char *
check_uniform(const cJSON *spec, const cJSON *body, const char *kind,
    const struct augment_param_def *d, int depth, char *buf, size_t buflen)
{
	const char *m = check_scalar(body, d, depth + 1, buf, buflen);

	(void)spec;
	if (m != NULL)
		return m;
	if (!is_pair(body)) {
		snprintf(buf, buflen, "%s: %s needs [lo, hi]", d->name, kind);
		return buf;
	}
	if (strcmp(kind, "log_uniform") == 0 &&
	    cJSON_GetArrayItem(body, 0)->valuedouble <= 0) {
		snprintf(buf, buflen, "%s: log_uniform needs lo > 0", d->name);
		return buf;
	}
	return NULL;
}

static const char *
check_normal(const cJSON *spec, const cJSON *body, const char *kind,
    const struct augment_param_def *d, int depth, char *buf, size_t buflen)
{
	const cJSON *clip = cJSON_GetObjectItemCaseSensitive(spec, "clip");

	(void)kind;
	if (!is_pair(body) || cJSON_GetArrayItem(body, 1)->valuedouble < 0) {
		snprintf(buf, buflen,
		    "%s: normal needs [mu, sigma] with sigma >= 0", d->name);
		return buf;
	}
	if (clip == NULL) {
		snprintf(buf, buflen, "%s: normal needs \"clip\": [lo, hi]",
		    d->name);
		return buf;
	}
	if (!is_pair(clip)) {
		snprintf(buf, buflen, "%s: clip needs [lo, hi]", d->name);
		return buf;
	}
	return check_scalar(clip, d, depth + 1, buf, buflen);
}

static const char *
check_choice(const cJSON *spec, const cJSON *body, const char *kind,
    const struct augment_param_def *d, int depth, char *buf, size_t buflen)
{
	const cJSON *item;

	(void)spec;
	(void)kind;
	if (!cJSON_IsArray(body) || cJSON_GetArraySize(body) < 1) {
		snprintf(buf, buflen,
		    "%s: choice needs a non-empty list of numbers", d->name);
		return buf;
	}
	cJSON_ArrayForEach(item, body)
	{
		if (!cJSON_IsNumber(item)) {
			snprintf(
			    buf, buflen, "%s: choice needs numbers", d->name);
			return buf;
		}
	}
	return check_each(body, d, depth, buf, buflen);
}

static const char *
check_by_severity(const cJSON *spec, const cJSON *body, const char *kind,
    const struct augment_param_def *d, int depth, char *buf, size_t buflen)
{
	(void)spec;
	(void)kind;
	if (!cJSON_IsArray(body) || cJSON_GetArraySize(body) != 5) {
		snprintf(
		    buf, buflen, "%s: by_severity needs 5 values", d->name);
		return buf;
	}
	return check_each(body, d, depth, buf, buflen);
}

/* [a, b], both numbers or both [lo, hi]. */
static const char *
check_lerp_severity(const cJSON *spec, const cJSON *body, const char *kind,
    const struct augment_param_def *d, int depth, char *buf, size_t buflen)
{
	(void)spec;
	(void)kind;
	if (!cJSON_IsArray(body) || cJSON_GetArraySize(body) != 2 ||
	    !((cJSON_IsNumber(cJSON_GetArrayItem(body, 0)) &&
	          cJSON_IsNumber(cJSON_GetArrayItem(body, 1))) ||
	        (is_pair(cJSON_GetArrayItem(body, 0)) &&
	            is_pair(cJSON_GetArrayItem(body, 1))))) {
		snprintf(buf, buflen,
		    "%s: lerp_severity needs [a, b] with two numbers or two "
		    "[lo, hi] ranges",
		    d->name);
		return buf;
	}
	return check_each(body, d, depth, buf, buflen);
}

/* The distributions: the key naming each, whether it takes "clip", and
 * its check. */
static const struct {
	const char *key;
	bool takes_clip;
	spec_check check;
} spec_checks[] = {
    {"uniform", false, check_uniform},
    {"log_uniform", false, check_uniform},
    {"normal", true, check_normal},
    {"choice", false, check_choice},
    {"by_severity", false, check_by_severity},
    {"lerp_severity", false, check_lerp_severity},
};

/* Validate a scalar spec; returns NULL or a message (static or BUF). */
static const char *
check_scalar(const cJSON *spec, const struct augment_param_def *d, int depth,
    char *buf, size_t buflen)
{
	const char *kind;
	const cJSON *body, *item;
	size_t k = 0;

	if (depth > 4)
		return "value specs nest too deeply";
	if (cJSON_IsNumber(spec)) {
		if (!in_range(spec->valuedouble, d)) {
			snprintf(buf, buflen,
			    "%s: value %.17g out of range [%g, %g]", d->name,
			    spec->valuedouble, d->min, d->max);
			return buf;
		}
		return NULL;
	}
	if (is_pair(spec)) {
		double lo = cJSON_GetArrayItem(spec, 0)->valuedouble;
		double hi = cJSON_GetArrayItem(spec, 1)->valuedouble;

		if (!in_range(lo, d) || !in_range(hi, d)) {
			snprintf(buf, buflen,
			    "%s: range [%.17g, %.17g] outside [%g, %g]",
			    d->name, lo, hi, d->min, d->max);
			return buf;
		}
		if (lo > hi) {
			snprintf(buf, buflen,
			    "%s: range [%.17g, %.17g] has lo > hi", d->name, lo,
			    hi);
			return buf;
		}
		return NULL;
	}
	if (!cJSON_IsObject(spec)) {
		snprintf(buf, buflen,
		    "%s: expected a number, [lo, hi] or a distribution object",
		    d->name);
		return buf;
	}
	body = spec_kind(spec, &kind);
	if (body == NULL) {
		snprintf(buf, buflen,
		    "%s: object needs one of uniform, "
		    "log_uniform, normal, choice, by_severity, lerp_severity",
		    d->name);
		return buf;
	}
	while (strcmp(spec_checks[k].key, kind) != 0)
		k++;
	cJSON_ArrayForEach(item, spec)
	{
		if (item == body)
			continue;
		if (strcmp(item->string, "crn") == 0 && cJSON_IsBool(item))
			continue;
		if (strcmp(item->string, "clip") == 0 &&
		    spec_checks[k].takes_clip)
			continue;
		snprintf(buf, buflen, "%s: unknown key '%s' in a %s spec",
		    d->name, item->string, kind);
		return buf;
	}
	return spec_checks[k].check(spec, body, kind, d, depth, buf, buflen);
}

/* A vector parameter (dims > 1): a list of DIMS scalar specs, or
 * by_severity / lerp_severity over such lists. */
static const char *
check_vector(const cJSON *spec, const struct augment_param_def *d, char *buf,
    size_t buflen)
{
	const char *kind;
	const cJSON *body, *item;

	if (cJSON_IsArray(spec)) {
		if (cJSON_GetArraySize(spec) != d->dims) {
			snprintf(buf, buflen, "%s: expected %d components",
			    d->name, d->dims);
			return buf;
		}
		cJSON_ArrayForEach(item, spec)
		{
			const char *m = check_scalar(item, d, 1, buf, buflen);

			if (m != NULL)
				return m;
		}
		return NULL;
	}
	if (cJSON_IsObject(spec) && (body = spec_kind(spec, &kind)) != NULL &&
	    cJSON_GetArraySize(spec) == 1 &&
	    (strcmp(kind, "by_severity") == 0 ||
	        strcmp(kind, "lerp_severity") == 0)) {
		int want = strcmp(kind, "by_severity") == 0 ? 5 : 2;

		if (!cJSON_IsArray(body) || cJSON_GetArraySize(body) != want) {
			snprintf(buf, buflen, "%s: %s needs %d lists", d->name,
			    kind, want);
			return buf;
		}
		cJSON_ArrayForEach(item, body)
		{
			const char *m;

			if (!cJSON_IsArray(item)) {
				snprintf(buf, buflen,
				    "%s: %s needs lists of "
				    "%d components",
				    d->name, kind, d->dims);
				return buf;
			}
			if ((m = check_vector(item, d, buf, buflen)) != NULL)
				return m;
			if (want == 2) {
				const cJSON *c;

				cJSON_ArrayForEach(c, item)
				{
					if (!cJSON_IsNumber(c) && !is_pair(c)) {
						snprintf(buf, buflen,
						    "%s: lerp_severity "
						    "components must be "
						    "numbers or [lo, hi]",
						    d->name);
						return buf;
					}
				}
			}
		}
		return NULL;
	}
	snprintf(buf, buflen,
	    "%s: expected a list of %d values or by_severity/lerp_severity",
	    d->name, d->dims);
	return buf;
}

/* Evaluation: U0/U1 are the common uniforms of one parameter component. */

static double
normal_from(double u0, double u1)
{
	/* Box-Muller; 1 - u0 is in (0, 1]. */
	return sqrt(-2.0 * log(1.0 - u0)) * cos(2.0 * G_PI * u1);
}

static double
eval_scalar(const cJSON *spec, int severity, double u0, double u1)
{
	const char *kind;
	const cJSON *body;

	if (cJSON_IsNumber(spec))
		return spec->valuedouble;
	if (is_pair(spec)) {
		double lo = cJSON_GetArrayItem(spec, 0)->valuedouble;
		double hi = cJSON_GetArrayItem(spec, 1)->valuedouble;

		return lo + u0 * (hi - lo);
	}
	body = spec_kind(spec, &kind);
	if (body == NULL)
		return NAN;
	if (strcmp(kind, "uniform") == 0)
		return eval_scalar(body, severity, u0, u1);
	if (strcmp(kind, "log_uniform") == 0) {
		double lo = log(cJSON_GetArrayItem(body, 0)->valuedouble);
		double hi = log(cJSON_GetArrayItem(body, 1)->valuedouble);

		return exp(lo + u0 * (hi - lo));
	}
	if (strcmp(kind, "normal") == 0) {
		const cJSON *clip =
		    cJSON_GetObjectItemCaseSensitive(spec, "clip");
		double v = cJSON_GetArrayItem(body, 0)->valuedouble +
		    cJSON_GetArrayItem(body, 1)->valuedouble *
		        normal_from(u0, u1);
		double lo = cJSON_GetArrayItem(clip, 0)->valuedouble;
		double hi = cJSON_GetArrayItem(clip, 1)->valuedouble;

		return v < lo ? lo : v > hi ? hi : v;
	}
	if (strcmp(kind, "choice") == 0) {
		int n = cJSON_GetArraySize(body);
		int i = (int)(u0 * n);

		return cJSON_GetArrayItem(body, i < n ? i : n - 1)->valuedouble;
	}
	if (strcmp(kind, "by_severity") == 0)
		return eval_scalar(
		    cJSON_GetArrayItem(body, severity - 1), severity, u0, u1);
	/* lerp_severity */
	{
		const cJSON *a = cJSON_GetArrayItem(body, 0);
		const cJSON *b = cJSON_GetArrayItem(body, 1);
		double t = (severity - 1) / 4.0;

		if (cJSON_IsNumber(a))
			return a->valuedouble +
			    t * (b->valuedouble - a->valuedouble);
		{
			double alo = cJSON_GetArrayItem(a, 0)->valuedouble;
			double ahi = cJSON_GetArrayItem(a, 1)->valuedouble;
			double blo = cJSON_GetArrayItem(b, 0)->valuedouble;
			double bhi = cJSON_GetArrayItem(b, 1)->valuedouble;
			double lo = alo + t * (blo - alo);
			double hi = ahi + t * (bhi - ahi);

			return lo + u0 * (hi - lo);
		}
	}
}

static bool
spec_crn_off(const cJSON *spec)
{
	return cJSON_IsObject(spec) &&
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(spec, "crn"));
}

/* Component C of a vector spec at SEVERITY: a scalar spec (borrowed), or
 * for lerp_severity the two endpoint components in *A and *B. */
static const cJSON *
vector_component(
    const cJSON *spec, int severity, int c, const cJSON **a, const cJSON **b)
{
	const char *kind;
	const cJSON *body;

	*a = *b = NULL;
	if (cJSON_IsArray(spec))
		return cJSON_GetArrayItem(spec, c);
	body = spec_kind(spec, &kind);
	if (strcmp(kind, "by_severity") == 0)
		return vector_component(
		    cJSON_GetArrayItem(body, severity - 1), severity, c, a, b);
	*a = cJSON_GetArrayItem(cJSON_GetArrayItem(body, 0), c);
	*b = cJSON_GetArrayItem(cJSON_GetArrayItem(body, 1), c);
	return NULL;
}

static double
eval_lerp_pair(const cJSON *a, const cJSON *b, int severity, double u0)
{
	double t = (severity - 1) / 4.0;
	double alo, ahi, blo, bhi;

	if (cJSON_IsNumber(a))
		alo = ahi = a->valuedouble;
	else
		alo = cJSON_GetArrayItem(a, 0)->valuedouble,
		ahi = cJSON_GetArrayItem(a, 1)->valuedouble;
	if (cJSON_IsNumber(b))
		blo = bhi = b->valuedouble;
	else
		blo = cJSON_GetArrayItem(b, 0)->valuedouble,
		bhi = cJSON_GetArrayItem(b, 1)->valuedouble;
	alo += t * (blo - alo);
	ahi += t * (bhi - ahi);
	return alo + u0 * (ahi - alo);
}

/* Parsing. */

static int
parse_effect(const struct source *src, int idx, const cJSON *obj,
    struct augment_effect *e, char *err, size_t errlen)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	const cJSON *item;
	const struct augment_effect_def *d = NULL;
	char buf[256];
	size_t np;

	if (!cJSON_IsObject(obj))
		return fail(src, idx, NULL, err, errlen, "not an object");
	if (!cJSON_IsString(type))
		return fail(src, idx, NULL, err, errlen,
		    "needs \"type\" (see --list-effects)");
	for (int t = 0; t < AUGMENT_NEFFECTS; t++)
		if (strcmp(type->valuestring, effect_defs[t].name) == 0) {
			d = &effect_defs[t];
			e->type = (enum augment_effect_type)t;
		}
	if (d == NULL)
		return fail(src, idx, "type", err, errlen,
		    "unknown effect type '%s' (see --list-effects)",
		    type->valuestring);
	np = nparams(d);
	e->node_scope = false;
	cJSON_ArrayForEach(item, obj)
	{
		const char *k = item->string;
		bool known = false;

		if (strcmp(k, "type") == 0 || strcmp(k, "note") == 0)
			continue;
		if (strcmp(k, "scope") == 0) {
			if (!cJSON_IsString(item) ||
			    (strcmp(item->valuestring, "node") != 0 &&
			        strcmp(item->valuestring, "image") != 0))
				return fail(src, idx, k, err, errlen,
				    "%s: scope must be \"node\" or \"image\"",
				    d->name);
			e->node_scope = strcmp(item->valuestring, "node") == 0;
			continue;
		}
		if (strcmp(k, "p") == 0) {
			static const struct augment_param_def pdef = {
			    "p", 1, 0, 1, 1, "probability", NULL};
			const char *m =
			    check_scalar(item, &pdef, 0, buf, sizeof buf);

			if (m != NULL)
				return fail(src, idx, k, err, errlen, "%s: %s",
				    d->name, m);
			e->p = item;
			continue;
		}
		for (size_t i = 0; i < np; i++) {
			const struct augment_param_def *pd = &d->params[i];
			const char *m;

			if (strcmp(k, pd->name) != 0)
				continue;
			known = true;
			if (pd->alias != NULL && cJSON_IsString(item) &&
			    strcmp(item->valuestring, pd->alias) == 0)
				m = NULL;
			else if (pd->dims > 1)
				m = check_vector(item, pd, buf, sizeof buf);
			else
				m = check_scalar(item, pd, 0, buf, sizeof buf);
			if (m != NULL)
				return fail(src, idx, k, err, errlen, "%s: %s",
				    d->name, m);
			e->params[i] = item;
		}
		for (size_t c = 0; c < 2 && !known; c++) {
			const struct augment_choice_def *cd = &d->choices[c];
			bool found = false;

			if (cd->name == NULL || strcmp(k, cd->name) != 0)
				continue;
			known = true;
			for (int v = 0;
			     cJSON_IsString(item) && cd->values[v] != NULL; v++)
				if (strcmp(item->valuestring, cd->values[v]) ==
				    0) {
					e->choice[c] = v;
					found = true;
				}
			if (!found) {
				char allowed[128] = "";

				for (int v = 0; cd->values[v] != NULL; v++) {
					if (v > 0)
						g_strlcat(allowed, ", ",
						    sizeof allowed);
					g_strlcat(allowed, cd->values[v],
					    sizeof allowed);
				}
				return fail(src, idx, k, err, errlen,
				    "%s: %s must be one of %s", d->name, k,
				    allowed);
			}
		}
		if (!known)
			return fail(src, idx, k, err, errlen,
			    "%s: unknown key '%s' (see --list-effects)",
			    d->name, k);
	}
	if (e->type == AUGMENT_JPEG && e->params[0] == NULL)
		return fail(
		    src, idx, NULL, err, errlen, "jpeg: needs \"quality\"");
	return 0;
}

static void
digest_of(const cJSON *json, char out[65])
{
	char *canon = cJSON_PrintUnformatted(json);
	gchar *hex;

	if (canon == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "out of memory");
	hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, canon, -1);
	g_strlcpy(out, hex, 65);
	g_free(hex);
	cJSON_free(canon);
}

static bool
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

int
augment_profile_parse(const char *text, size_t len, const char *name,
    struct augment_profile *out, char *err, size_t errlen)
{
	struct source src = {text, len, name, {0}, 0};
	const char *parse_end = NULL;
	const cJSON *item, *effects;
	const char *dup;
	int last = -1, idx = 0;
	cJSON *json;

	memset(out, 0, sizeof *out);
	json = cJSON_ParseWithLengthOpts(text, len, &parse_end, false);
	if (json == NULL) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at != NULL && at >= text && at <= text + len
		    ? (size_t)(at - text)
		    : len;

		snprintf(err, errlen, "%s:%d: not valid JSON", name,
		    line_at(&src, off));
		return -1;
	}
	find_effects(&src);
	out->json = json;
	if (!cJSON_IsObject(json)) {
		fail(&src, -1, NULL, err, errlen, "a profile is a JSON object");
		goto bad;
	}
	if ((dup = find_duplicate(json)) != NULL) {
		/* Point at the second occurrence. */
		size_t first = find_key(&src, dup, 0);

		snprintf(err, errlen, "%s:%d: duplicate key '%s'", name,
		    line_at(&src, find_key(&src, dup, first + 1)), dup);
		goto bad;
	}
	cJSON_ArrayForEach(item, json)
	{
		const char *k = item->string;

		if (strcmp(k, "format") == 0) {
			if (!cJSON_IsString(item) ||
			    strcmp(item->valuestring, PROFILE_FORMAT) != 0) {
				fail(&src, -1, k, err, errlen,
				    "format must be \"%s\"", PROFILE_FORMAT);
				goto bad;
			}
		} else if (strcmp(k, "name") == 0) {
			if (!cJSON_IsString(item) ||
			    !valid_name(item->valuestring)) {
				fail(&src, -1, k, err, errlen,
				    "name must be 1-64 characters of "
				    "[A-Za-z0-9_.-]");
				goto bad;
			}
		} else if (strcmp(k, "description") == 0) {
			if (!cJSON_IsString(item)) {
				fail(&src, -1, k, err, errlen,
				    "description must be a string");
				goto bad;
			}
		} else if (strcmp(k, "seed") == 0) {
			if (!cJSON_IsString(item) ||
			    augment_parse_seed(item->valuestring, &out->seed) !=
			        0) {
				fail(&src, -1, k, err, errlen,
				    "seed must be a string: \"0x...\" (hex) "
				    "or decimal, below 2^64");
				goto bad;
			}
		} else if (strcmp(k, "severity") == 0) {
			if (!cJSON_IsNumber(item) || item->valuedouble < 1 ||
			    item->valuedouble > 5 ||
			    item->valuedouble != (int)item->valuedouble) {
				fail(&src, -1, k, err, errlen,
				    "severity must be an integer 1..5");
				goto bad;
			}
		} else if (strcmp(k, "effects") != 0) {
			fail(&src, -1, k, err, errlen,
			    "unknown key '%s' (format, name, description, "
			    "seed, severity, effects)",
			    k);
			goto bad;
		}
	}
	item = cJSON_GetObjectItemCaseSensitive(json, "format");
	if (item == NULL) {
		fail(&src, -1, NULL, err, errlen, "missing \"format\": \"%s\"",
		    PROFILE_FORMAT);
		goto bad;
	}
	item = cJSON_GetObjectItemCaseSensitive(json, "name");
	if (item == NULL) {
		fail(&src, -1, NULL, err, errlen, "missing \"name\"");
		goto bad;
	}
	out->name = mirad_xstrdup(item->valuestring);
	item = cJSON_GetObjectItemCaseSensitive(json, "description");
	out->description = mirad_xstrdup(item ? item->valuestring : "");
	item = cJSON_GetObjectItemCaseSensitive(json, "severity");
	out->severity = item ? (int)item->valuedouble : 3;
	effects = cJSON_GetObjectItemCaseSensitive(json, "effects");
	if (!cJSON_IsArray(effects)) {
		fail(&src, -1, effects ? "effects" : NULL, err, errlen,
		    "\"effects\" must be a list");
		goto bad;
	}
	cJSON_ArrayForEach(item, effects)
	{
		struct augment_effect e;

		memset(&e, 0, sizeof e);
		if (idx >= AUGMENT_NEFFECTS) {
			fail(&src, idx, NULL, err, errlen,
			    "too many effects (each type at most once)");
			goto bad;
		}
		if (parse_effect(&src, idx, item, &e, err, errlen) != 0)
			goto bad;
		if ((int)e.type <= last) {
			fail(&src, idx, "type", err, errlen,
			    "%s %s %s: effects must follow the physical order "
			    "(see --list-effects)",
			    effect_defs[e.type].name,
			    (int)e.type == last ? "repeats" : "comes after",
			    effect_defs[last].name);
			goto bad;
		}
		last = (int)e.type;
		if (effect_defs[e.type].geometric)
			out->geometric = true;
		out->effects[out->neffects++] = e;
		idx++;
	}
	digest_of(json, out->digest);
	out->source = mirad_xstrdup(name);
	return 0;
bad:
	augment_profile_free(out);
	return -1;
}

void
augment_profile_free(struct augment_profile *p)
{
	free(p->name);
	free(p->description);
	free(p->source);
	cJSON_Delete(p->json);
	memset(p, 0, sizeof *p);
}

const char *
augment_builtin_find(const char *name)
{
	for (size_t i = 0; i < augment_builtin_count(); i++)
		if (strcmp(name, augment_builtin_name(i)) == 0)
			return augment_builtin_text(i);
	return NULL;
}

int
augment_profile_load(const char *name_or_file, struct augment_profile *out,
    char *err, size_t errlen)
{
	const char *text = augment_builtin_find(name_or_file);
	gchar *contents = NULL;
	gsize len;
	GError *gerr = NULL;
	int rc;

	if (text != NULL && strchr(name_or_file, '/') == NULL) {
		char *label = mirad_xasprintf("builtin:%s", name_or_file);

		rc = augment_profile_parse(
		    text, strlen(text), label, out, err, errlen);
		free(label);
		return rc;
	}
	if (!g_file_get_contents(name_or_file, &contents, &len, &gerr)) {
		snprintf(err, errlen, "%s: %s%s", name_or_file, gerr->message,
		    strchr(name_or_file, '/') == NULL &&
		            strstr(name_or_file, ".json") == NULL
		        ? " (not a built-in profile either; see "
		          "--list-profiles)"
		        : "");
		g_error_free(gerr);
		return -1;
	}
	rc = augment_profile_parse(
	    contents, len, name_or_file, out, err, errlen);
	g_free(contents);
	return rc;
}

/* Sampling. */

static uint64_t
param_key(const struct augment_profile *p, const struct augment_draw_ctx *c,
    size_t effect, const struct augment_effect *e, const char *param,
    int component, bool with_severity)
{
	char eidx[24], comp[24], sev[24];
	const char *parts[10];
	size_t n = 0;

	snprintf(eidx, sizeof eidx, "%zu", effect);
	snprintf(comp, sizeof comp, "%d", component);
	snprintf(sev, sizeof sev, "s%d", c->severity);
	parts[n++] = p->digest;
	if (e->node_scope) {
		parts[n++] = "node";
		parts[n++] = p->name;
	} else {
		parts[n++] = "img";
		parts[n++] = c->image_id;
	}
	{
		char var[24];

		snprintf(
		    var, sizeof var, "#%u", e->node_scope ? 0 : c->variant);
		parts[n++] = var;
		parts[n++] = eidx;
		parts[n++] = param;
		parts[n++] = comp;
		if (with_severity)
			parts[n++] = sev;
		parts[n] = NULL;
		return augment_key(c->run_seed, parts);
	}
}

static double
draw_scalar(const struct augment_profile *p, const struct augment_draw_ctx *c,
    size_t effect, const struct augment_effect *e, const char *param,
    int component, const cJSON *spec, const cJSON *lerp_a, const cJSON *lerp_b)
{
	uint64_t k = param_key(p, c, effect, e, param, component,
	    spec != NULL && spec_crn_off(spec));
	double u0 = augment_u01(augment_mix64(k ^ 1));
	double u1 = augment_u01(augment_mix64(k ^ 2));

	if (spec == NULL)
		return eval_lerp_pair(lerp_a, lerp_b, c->severity, u0);
	return eval_scalar(spec, c->severity, u0, u1);
}

int
augment_profile_sample(const struct augment_profile *p,
    const struct augment_draw_ctx *c, struct augment_sample *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < p->neffects; i++) {
		const struct augment_effect *e = &p->effects[i];
		const struct augment_effect_def *d = &effect_defs[e->type];
		size_t np = nparams(d);

		out->applied[i] = true;
		if (e->p != NULL) {
			double prob =
			    draw_scalar(p, c, i, e, "p", 0, e->p, NULL, NULL);
			uint64_t k = param_key(p, c, i, e, "p:apply", 0, false);

			out->applied[i] = augment_u01(k) < prob;
		}
		out->aux_seed[i] = param_key(p, c, i, e, "aux", 0, false);
		for (size_t j = 0; j < np; j++) {
			const struct augment_param_def *pd = &d->params[j];
			const cJSON *spec = e->params[j];

			for (int dim = 0; dim < pd->dims; dim++) {
				double v;

				if (spec == NULL) {
					v = pd->def;
				} else if (cJSON_IsString(spec)) {
					/* The read_b alias: Brooks et al.
					 * 2019, ln b = 2.18 ln a + 1.20 +
					 * N(0, 0.26). */
					uint64_t k = param_key(
					    p, c, i, e, pd->name, 0, false);
					double a = out->value[i][0][0];
					double z = normal_from(
					    augment_u01(augment_mix64(k ^ 1)),
					    augment_u01(augment_mix64(k ^ 2)));

					out->read_b_from_a = true;
					v = a > 0 ? exp(2.18 * log(a) + 1.20 +
					                0.26 * z)
					          : 0;
				} else if (pd->dims == 1) {
					v = draw_scalar(p, c, i, e, pd->name, 0,
					    spec, NULL, NULL);
				} else {
					const cJSON *a, *b;
					const cJSON *cs = vector_component(
					    spec, c->severity, dim, &a, &b);

					v = draw_scalar(p, c, i, e, pd->name,
					    dim, cs, a, b);
				}
				if (!isfinite(v))
					return -1;
				v = v < pd->min ? pd->min : v;
				v = v > pd->max ? pd->max : v;
				out->value[i][j][dim] = v;
			}
		}
	}
	return 0;
}

cJSON *
augment_sample_to_json(
    const struct augment_profile *p, const struct augment_sample *s, size_t i)
{
	const struct augment_effect *e = &p->effects[i];
	const struct augment_effect_def *d = &effect_defs[e->type];
	cJSON *obj = cJSON_CreateObject();
	char hex[24];

	cJSON_AddStringToObject(obj, "type", d->name);
	cJSON_AddBoolToObject(obj, "applied", s->applied[i]);
	for (size_t j = 0; j < nparams(d); j++) {
		const struct augment_param_def *pd = &d->params[j];

		if (pd->dims == 1) {
			cJSON_AddNumberToObject(
			    obj, pd->name, s->value[i][j][0]);
		} else {
			cJSON *arr = cJSON_AddArrayToObject(obj, pd->name);

			for (int k = 0; k < pd->dims; k++)
				cJSON_AddItemToArray(
				    arr, cJSON_CreateNumber(s->value[i][j][k]));
		}
	}
	for (size_t c = 0; c < 2; c++)
		if (d->choices[c].name != NULL)
			cJSON_AddStringToObject(obj, d->choices[c].name,
			    d->choices[c].values[e->choice[c]]);
	snprintf(hex, sizeof hex, "0x%016" PRIx64, s->aux_seed[i]);
	cJSON_AddStringToObject(obj, "seed", hex);
	return obj;
}

/* --explain */

static void
describe_scalar(const cJSON *spec, int severity, char *buf, size_t len)
{
	const char *kind;
	const cJSON *body;

	if (cJSON_IsNumber(spec)) {
		snprintf(buf, len, "%g", spec->valuedouble);
		return;
	}
	if (is_pair(spec)) {
		snprintf(buf, len, "uniform %g..%g",
		    cJSON_GetArrayItem(spec, 0)->valuedouble,
		    cJSON_GetArrayItem(spec, 1)->valuedouble);
		return;
	}
	body = spec_kind(spec, &kind);
	if (strcmp(kind, "uniform") == 0) {
		describe_scalar(body, severity, buf, len);
	} else if (strcmp(kind, "log_uniform") == 0) {
		snprintf(buf, len, "log-uniform %g..%g",
		    cJSON_GetArrayItem(body, 0)->valuedouble,
		    cJSON_GetArrayItem(body, 1)->valuedouble);
	} else if (strcmp(kind, "normal") == 0) {
		const cJSON *clip =
		    cJSON_GetObjectItemCaseSensitive(spec, "clip");

		snprintf(buf, len, "normal(%g, sd %g) within %g..%g",
		    cJSON_GetArrayItem(body, 0)->valuedouble,
		    cJSON_GetArrayItem(body, 1)->valuedouble,
		    cJSON_GetArrayItem(clip, 0)->valuedouble,
		    cJSON_GetArrayItem(clip, 1)->valuedouble);
	} else if (strcmp(kind, "choice") == 0) {
		size_t off = (size_t)snprintf(buf, len, "one of");
		const cJSON *it;

		cJSON_ArrayForEach(it, body)
		{
			if (off < len)
				off += (size_t)snprintf(buf + off, len - off,
				    " %g", it->valuedouble);
		}
	} else if (strcmp(kind, "by_severity") == 0) {
		describe_scalar(
		    cJSON_GetArrayItem(body, severity - 1), severity, buf, len);
	} else {
		const cJSON *a = cJSON_GetArrayItem(body, 0);
		const cJSON *b = cJSON_GetArrayItem(body, 1);
		double t = (severity - 1) / 4.0;

		if (cJSON_IsNumber(a)) {
			snprintf(buf, len, "%g",
			    a->valuedouble +
			        t * (b->valuedouble - a->valuedouble));
		} else {
			double lo = cJSON_GetArrayItem(a, 0)->valuedouble;
			double hi = cJSON_GetArrayItem(a, 1)->valuedouble;

			lo += t * (cJSON_GetArrayItem(b, 0)->valuedouble - lo);
			hi += t * (cJSON_GetArrayItem(b, 1)->valuedouble - hi);
			snprintf(buf, len, "uniform %g..%g", lo, hi);
		}
	}
}

static void
describe_param(const struct augment_param_def *pd, const cJSON *spec,
    int severity, char *buf, size_t len)
{
	if (spec == NULL) {
		snprintf(buf, len, "%g (default)", pd->def);
	} else if (cJSON_IsString(spec)) {
		snprintf(
		    buf, len, "derived from shot_a (%s)", spec->valuestring);
	} else if (pd->dims == 1) {
		describe_scalar(spec, severity, buf, len);
	} else {
		size_t off = 0;

		for (int dim = 0; dim < pd->dims && off < len; dim++) {
			const cJSON *a, *b;
			const cJSON *cs =
			    vector_component(spec, severity, dim, &a, &b);
			char one[96];

			if (cs != NULL) {
				describe_scalar(cs, severity, one, sizeof one);
			} else {
				cJSON *pair = cJSON_CreateObject();
				cJSON *arr = cJSON_AddArrayToObject(
				    pair, "lerp_severity");

				cJSON_AddItemReferenceToArray(arr, (cJSON *)a);
				cJSON_AddItemReferenceToArray(arr, (cJSON *)b);
				describe_scalar(
				    pair, severity, one, sizeof one);
				cJSON_Delete(pair);
			}
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    dim > 0 ? "; " : "", one);
		}
	}
}

void
augment_profile_explain(const struct augment_profile *p, FILE *out)
{
	fprintf(out, "profile %s (%s)\n", p->name, p->source);
	if (p->description[0] != '\0')
		fprintf(out, "  %s\n", p->description);
	fprintf(out,
	    "  default severity %d, seed 0x%016" PRIx64 ", digest %s\n",
	    p->severity, p->seed, p->digest);
	for (size_t i = 0; i < p->neffects; i++) {
		const struct augment_effect *e = &p->effects[i];
		const struct augment_effect_def *d = &effect_defs[e->type];
		char buf[512];

		fprintf(out, "\n%zu. %s (%s): %s\n", i + 1, d->name,
		    e->node_scope ? "node scope: drawn once per node"
		                  : "image scope: drawn per image and variant",
		    d->summary);
		for (size_t c = 0; c < 2; c++)
			if (d->choices[c].name != NULL)
				fprintf(out, "   %s: %s\n", d->choices[c].name,
				    d->choices[c].values[e->choice[c]]);
		if (e->p != NULL) {
			static const struct augment_param_def pdef = {
			    "p", 1, 0, 1, 1, "probability", NULL};

			fprintf(out, "   applied with probability:\n");
			for (int s = 1; s <= 5; s++) {
				describe_param(&pdef, e->p, s, buf, sizeof buf);
				fprintf(out, "     s%d: %s\n", s, buf);
			}
		}
		for (size_t j = 0; j < nparams(d); j++) {
			const struct augment_param_def *pd = &d->params[j];

			if (e->params[j] == NULL)
				continue;
			fprintf(out, "   %s (%s):\n", pd->name, pd->unit);
			for (int s = 1; s <= 5; s++) {
				describe_param(
				    pd, e->params[j], s, buf, sizeof buf);
				fprintf(out, "     s%d: %s\n", s, buf);
			}
		}
	}
}

void
augment_list_effects(FILE *out)
{
	fputs("Effects in their canonical order (a profile lists them in "
	      "this order):\n",
	    out);
	for (int t = 0; t < AUGMENT_NEFFECTS; t++) {
		const struct augment_effect_def *d = &effect_defs[t];

		fprintf(out, "\n%s%s: %s\n", d->name,
		    d->geometric ? " (geometric: masks warped)" : "",
		    d->summary);
		for (size_t j = 0; j < nparams(d); j++) {
			const struct augment_param_def *pd = &d->params[j];

			fprintf(out, "  %-20s %s; %g..%g, default %g%s%s%s\n",
			    pd->name, pd->unit, pd->min, pd->max, pd->def,
			    pd->dims > 1 ? " (a list)" : "",
			    pd->alias ? ", or " : "",
			    pd->alias ? pd->alias : "");
		}
		for (size_t c = 0; c < 2; c++) {
			const struct augment_choice_def *cd = &d->choices[c];

			if (cd->name == NULL)
				continue;
			fprintf(out, "  %-20s", cd->name);
			for (int v = 0; cd->values[v] != NULL; v++)
				fprintf(out, "%s%s", v ? " | " : " ",
				    cd->values[v]);
			fprintf(out, " (default %s)\n", cd->values[0]);
		}
	}
}
