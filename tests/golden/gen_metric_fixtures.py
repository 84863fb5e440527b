#!/usr/bin/python3
"""Generate the metric test fixtures and their reference scores.

Run with Debian's python3 (numpy, scipy, msgpack, sklearn 1.2):
    /usr/bin/python3 tests/gen_metric_fixtures.py tests/fixtures/metric

For each fixture NAME it writes NAME.dqs (a disq stream: header, then one batch
with `s` and `code` or `z`, or the intervention fields) and NAME.ref, lines of
"key value..." holding the scores computed the way disentanglement_lib
(dci.py, mig.py, sap_score.py, modularity_explicitness.py, factor_vae.py,
beta_vae.py, unsupervised_metrics.py) and the FactorQVAE InfoMEC script do,
with sklearn estimators at their defaults.  The first `train` rows are the
training set and the next `test` rows the test set, as `metric --train --test`.
"""
import sys
import os
import warnings

import msgpack
import numpy as np
import scipy.linalg
import scipy.stats
from sklearn import ensemble, feature_selection, linear_model, metrics, preprocessing, svm

warnings.filterwarnings("ignore")


def tensor(a):
    dtype = {np.dtype("int32"): "i32", np.dtype("float32"): "f32", np.dtype("uint8"): "u8"}[a.dtype]
    return {"dtype": dtype, "shape": list(a.shape), "data": np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()}


def write_stream(path, factor_names, sizes, fields):
    header = {"disq": 1, "dataset": "fixture",
              "factors": [{"name": n, "size": int(s)} for n, s in zip(factor_names, sizes)]}
    with open(path, "wb") as f:
        f.write(msgpack.packb(header, use_bin_type=True))
        f.write(msgpack.packb({k: tensor(v) for k, v in fields.items()}, use_bin_type=True))


# ---- disentanglement_lib, utils.py ----
def histogram_discretize(target, num_bins=20):
    out = np.zeros(target.shape, dtype=np.float64)
    for i in range(target.shape[0]):
        out[i, :] = np.digitize(target[i, :], np.histogram(target[i, :], num_bins)[1][:-1])
    return out


def discrete_mutual_info(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = metrics.mutual_info_score(ys[j, :], mus[i, :])
    return m


def discrete_entropy(ys):
    return np.array([metrics.mutual_info_score(y, y) for y in ys])


def normalize_data(data, mean=None, stddev=None):
    if mean is None:
        mean = np.mean(data, axis=1)
    if stddev is None:
        stddev = np.std(data, axis=1)
        stddev = np.where(stddev == 0, 1.0, stddev)  # disq: a constant code becomes 0
    return (data - mean[:, np.newaxis]) / stddev[:, np.newaxis], mean, stddev


# ---- dci.py ----
def dci(mus_train, ys_train, mus_test, ys_test):
    d, F = mus_train.shape[0], ys_train.shape[0]
    imp = np.zeros([d, F])
    tr, te = [], []
    for i in range(F):
        model = ensemble.GradientBoostingClassifier(random_state=0)
        model.fit(mus_train.T, ys_train[i, :])
        imp[:, i] = np.abs(model.feature_importances_)
        tr.append(np.mean(model.predict(mus_train.T) == ys_train[i, :]))
        te.append(np.mean(model.predict(mus_test.T) == ys_test[i, :]))

    def dis(m):
        per = 1. - scipy.stats.entropy(m.T + 1e-11, base=m.shape[1])
        if m.sum() == 0.:
            m = np.ones_like(m)
        return np.sum(per * m.sum(axis=1) / m.sum())

    def com(m):
        per = 1. - scipy.stats.entropy(m + 1e-11, base=m.shape[0])
        if m.sum() == 0.:
            m = np.ones_like(m)
        return np.sum(per * m.sum(axis=0) / m.sum())
    return {"dci.disentanglement": dis(imp), "dci.completeness": com(imp),
            "dci.informativeness_train": np.mean(tr), "dci.informativeness_test": np.mean(te),
            "dci.importance": imp.ravel()}


# ---- mig.py ----
def mig(mus, ys):
    m = discrete_mutual_info(histogram_discretize(mus), ys)
    h = discrete_entropy(ys)
    s = np.sort(m, axis=0)[::-1]
    return {"mig.mig": np.mean((s[0, :] - s[1, :]) / h), "mig.mi": m.ravel()}


# ---- sap_score.py (discrete factors) ----
def sap(mus, ys, mus_test, ys_test):
    sm = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            clf = svm.LinearSVC(C=0.01, class_weight="balanced", random_state=0)
            clf.fit(mus[i, :][:, None], ys[j, :])
            sm[i, j] = np.mean(clf.predict(mus_test[i, :][:, None]) == ys_test[j, :])
    s = np.sort(sm, axis=0)
    return {"sap.sap": np.mean(s[-1, :] - s[-2, :]), "sap.matrix": sm.ravel()}


# ---- modularity_explicitness.py ----
def modularity_explicitness(mus, ys, mus_test, ys_test):
    mi = discrete_mutual_info(histogram_discretize(mus), ys)
    sq = np.square(mi)
    mx = np.max(sq, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mod = 1. - (np.sum(sq, axis=1) - mx) / (mx * (sq.shape[1] - 1.))
    mod[mx == 0.] = 0.
    tr_n, mean, sd = normalize_data(mus)
    te_n, _, _ = normalize_data(mus_test, mean, sd)
    etr, ete = [], []
    for i in range(ys.shape[0]):
        clf = linear_model.LogisticRegression().fit(tr_n.T, ys[i, :])
        cls = clf.classes_

        def auc(x, y):
            p = clf.predict_proba(x.T)
            cols = [k for k in range(len(cls)) if 0 < np.sum(y == cls[k]) < len(y)]
            return np.mean([metrics.roc_auc_score(y == cls[k], p[:, k]) for k in cols])
        etr.append(auc(tr_n, ys[i, :]))
        ete.append(auc(te_n, ys_test[i, :]))
    return {"modularity.modularity": np.mean(mod), "modularity.explicitness_train": np.mean(etr),
            "modularity.explicitness_test": np.mean(ete)}


# ---- InfoMEC as in the FactorQVAE repository (metrics/infomec.py) ----
def infomec(latents, sources, discrete, n_draws=8):
    ys = np.stack([preprocessing.LabelEncoder().fit_transform(s) for s in sources.T], axis=1)
    if not discrete:
        mus = np.concatenate([preprocessing.StandardScaler().fit_transform(latents[:, j][:, None])
                              for j in range(latents.shape[1])], axis=1)
    else:
        mus = latents
    ranges = np.max(latents, axis=0) - np.min(latents, axis=0)
    active = ranges > 0 if discrete else ranges > np.max(ranges) / 20
    F, A = ys.shape[1], np.sum(active)
    # sklearn's k-NN estimator breaks ties with random noise, so repeated
    # latent values make the reference itself random: for continuous latents
    # take the mean over 8 draws and record the spread of the scores.
    draws = []
    for r in range(1 if discrete else n_draws):
        nmi = np.empty((ys.shape[1], mus.shape[1]))
        for i in range(ys.shape[1]):
            for j in range(mus.shape[1]):
                if discrete:
                    nmi[i, j] = metrics.mutual_info_score(ys[:, i], mus[:, j])
                else:
                    nmi[i, j] = feature_selection.mutual_info_classif(mus[:, j][:, None], ys[:, i],
                                                                      random_state=r)[0]
            nmi[i, :] /= metrics.mutual_info_score(ys[:, i], ys[:, i])
        p = nmi[:, active]
        # disq skips latents (factors) whose NMI is all zero instead of
        # returning NaN, as latent_quantization's mutual-information-ratio code does.
        with np.errstate(divide="ignore", invalid="ignore"):
            infom = (np.nanmean(np.max(p, axis=0) / np.sum(p, axis=0)) - 1 / F) / (1 - 1 / F)
            infoc = (np.nanmean(np.max(p, axis=1) / np.sum(p, axis=1)) - 1 / A) / (1 - 1 / A)
        draws.append((nmi, infom, infoc))
    nmi = np.mean([d[0] for d in draws], axis=0)
    infom, infoc = np.mean([d[1] for d in draws]), np.mean([d[2] for d in draws])
    spread = max(max(abs(d[1] - infom), abs(d[2] - infoc)) for d in draws)
    if discrete:
        x = preprocessing.OneHotEncoder(sparse_output=False).fit_transform(latents) if "sparse_output" in \
            preprocessing.OneHotEncoder().get_params() else preprocessing.OneHotEncoder(sparse=False).fit_transform(latents)
    else:
        x = preprocessing.StandardScaler().fit_transform(latents)

    def ce(X, y):
        model = linear_model.LogisticRegression(penalty="none", tol=1e-4, class_weight="balanced", solver="lbfgs",
                                                max_iter=500, multi_class="multinomial")
        model.fit(X, y)
        return metrics.log_loss(y, model.predict_proba(X))
    infoe = []
    for i in range(ys.shape[1]):
        c = ce(x, ys[:, i])
        c0 = ce(np.zeros_like(latents, dtype=np.float64), ys[:, i])
        infoe.append((c0 - c) / c0)
    return {"infomec.infom": infom, "infomec.infoc": infoc, "infomec.spread": spread,
            "infomec.infoe": np.mean(infoe),
            "infomec.nmi": nmi.T.ravel()}


# ---- unsupervised_metrics.py ----
def unsupervised(mus):
    cov = np.cov(mus)
    tc = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    sq = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    wc = 2 * np.trace(cov) - 2 * np.trace(sq)
    m = discrete_mutual_info(histogram_discretize(mus), histogram_discretize(mus))
    np.fill_diagonal(m, 0)
    n = mus.shape[0]
    return {"unsupervised.gaussian_total_correlation": tc,
            "unsupervised.gaussian_wasserstein_correlation": np.real(wc),
            "unsupervised.gaussian_wasserstein_correlation_norm": np.real(wc) / np.sum(np.diag(cov)),
            "unsupervised.mutual_info_score": np.sum(m) / (n ** 2 - n)}


def write_ref(path, scores, train, test):
    with open(path, "w") as f:
        f.write("train %d\ntest %d\n" % (train, test))
        for k, v in scores.items():
            v = np.atleast_1d(np.asarray(v, dtype=np.float64))
            f.write(k + " " + " ".join("%.10g" % x for x in v) + "\n")


def supervised_fixture(out, name, names, sizes, latents, s, train, test, discrete):
    field = "code" if discrete else "z"
    write_stream(os.path.join(out, name + ".dqs"), names, sizes, {"s": s, field: latents})
    lt = latents[:train].astype(np.float64).T if discrete else latents[:train].T
    le = latents[train:train + test].astype(np.float64).T if discrete else latents[train:train + test].T
    yt, ye = s[:train].T, s[train:train + test].T
    scores = {}
    scores.update(dci(lt, yt, le, ye))
    scores.update(mig(latents[:train].T, yt))
    scores.update(sap(lt, yt, le, ye))
    scores.update(modularity_explicitness(lt.astype(np.float64), yt, le.astype(np.float64), ye))
    scores.update(infomec(latents[:train], s[:train], discrete))
    scores.update(unsupervised(latents[:train].T.astype(np.float64)))
    write_ref(os.path.join(out, name + ".ref"), scores, train, test)


def factors(rng, n, sizes):
    return np.stack([rng.integers(0, k, n) for k in sizes], axis=1).astype(np.int32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261123)
    tr, te = 600, 300
    n = tr + te

    s = factors(rng, n, [4, 6, 3])
    u = s / np.array([3., 5., 2.])
    z = np.stack([u[:, 0] + 0.15 * rng.standard_normal(n),
                  0.7 * u[:, 1] + 0.3 * u[:, 2] + 0.1 * rng.standard_normal(n),
                  u[:, 2] + 0.2 * rng.standard_normal(n),
                  rng.standard_normal(n),
                  0.3 * u[:, 0] + rng.standard_normal(n)], axis=1).astype(np.float32)
    supervised_fixture(out, "continuous", ["shape", "scale", "hue"], [4, 6, 3], z, s, tr, te, False)

    code = np.clip(np.floor((z[:, :4] + 1.0) * 3.0), 0, 7).astype(np.int32)
    supervised_fixture(out, "discrete", ["shape", "scale", "hue"], [4, 6, 3], code, s, tr, te, True)

    s = factors(rng, n, [5, 4])
    z = np.stack([np.zeros(n), rng.standard_normal(n),
                  s[:, 0] + 3.0 * rng.standard_normal(n), np.round(s[:, 1] / 2.0)], axis=1).astype(np.float32)
    supervised_fixture(out, "degenerate", ["a", "b"], [5, 4], z, s, tr, te, False)

    s = factors(rng, n, [2, 2, 3])
    z = np.stack([s[:, 0] + 0.6 * rng.standard_normal(n), s[:, 1] + 0.4 * s[:, 2] + 0.5 * rng.standard_normal(n),
                  s[:, 2] + 0.3 * rng.standard_normal(n)], axis=1).astype(np.float32)
    supervised_fixture(out, "binary", ["left", "right", "colour"], [2, 2, 3], z, s, tr, te, False)

    s = factors(rng, n, [20, 5])
    z = np.stack([s[:, 0] / 19.0 + 0.03 * rng.standard_normal(n), s[:, 1] + 0.5 * rng.standard_normal(n),
                  rng.standard_normal(n)], axis=1).astype(np.float32)
    supervised_fixture(out, "manyclass", ["angle", "size"], [20, 5], z, s, tr, te, False)

    s = factors(rng, n, [4, 5, 3])
    supervised_fixture(out, "identity", ["x", "y", "z"], [4, 5, 3], s.copy(), s, tr, te, True)

    intervention_fixtures(out, rng)
    mse_and_bad_fixtures(out, rng)


def representation(rng, s):
    n = s.shape[0]
    return np.stack([s[:, 0] + 0.3 * rng.standard_normal(n), s[:, 1] + 0.3 * s[:, 0] + 0.3 * rng.standard_normal(n),
                     s[:, 2] + 0.5 * rng.standard_normal(n), 0.01 * rng.standard_normal(n)], axis=1).astype(np.float32)


def intervention_fixtures(out, rng):
    sizes, names = [5, 4, 3], ["a", "b", "c"]
    votes_train, votes_test = 120, 60
    nv = votes_train + votes_test

    # factor_vae.py: one vote = G rows sharing factor `fixed`.
    G = 10
    s = factors(rng, nv * G, sizes)
    fixed = rng.integers(0, 3, nv)
    for v in range(nv):
        s[v * G:(v + 1) * G, fixed[v]] = s[v * G, fixed[v]]
    z = representation(rng, s)
    vote = np.repeat(np.arange(nv), G).astype(np.int32)
    write_stream(os.path.join(out, "factorvae.dqs"), names, sizes,
                 {"s": s, "z": z, "vote": vote, "fixed": np.repeat(fixed, G).astype(np.int32)})
    global_var = np.var(z.astype(np.float64), axis=0, ddof=1)
    active = np.sqrt(global_var) >= 0.05
    votes = np.zeros((3, 4), dtype=np.int64)
    ev = np.zeros((3, 4), dtype=np.int64)
    for v in range(nv):
        local = np.var(z[v * G:(v + 1) * G].astype(np.float64), axis=0, ddof=1)
        am = np.argmin(local[active] / global_var[active])
        (votes if v < votes_train else ev)[fixed[v], am] += 1
    cl = np.argmax(votes, axis=0)
    idx = np.arange(4)
    write_ref(os.path.join(out, "factorvae.ref"),
              {"factorvae.train_accuracy": np.sum(votes[cl, idx]) / np.sum(votes),
               "factorvae.eval_accuracy": np.sum(ev[cl, idx]) / np.sum(ev),
               "factorvae.num_active_dims": np.sum(active)}, votes_train, votes_test)

    # beta_vae.py: one vote = G pairs, rows 2j and 2j+1 share factor `fixed`.
    G = 5
    s = factors(rng, nv * 2 * G, sizes)
    fixed = rng.integers(0, 3, nv)
    for v in range(nv):
        rows = s[v * 2 * G:(v + 1) * 2 * G]
        rows[1::2, fixed[v]] = rows[0::2, fixed[v]]
    z = representation(rng, s)
    vote = np.repeat(np.arange(nv), 2 * G).astype(np.int32)
    write_stream(os.path.join(out, "betavae.dqs"), names, sizes,
                 {"s": s, "z": z, "vote": vote, "fixed": np.repeat(fixed, 2 * G).astype(np.int32)})
    feats = np.stack([np.mean(np.abs(z[v * 2 * G:(v + 1) * 2 * G:2].astype(np.float64) -
                                     z[v * 2 * G + 1:(v + 1) * 2 * G:2].astype(np.float64)), axis=0)
                      for v in range(nv)])
    model = linear_model.LogisticRegression(random_state=0).fit(feats[:votes_train], fixed[:votes_train])
    write_ref(os.path.join(out, "betavae.ref"),
              {"betavae.train_accuracy": np.mean(model.predict(feats[:votes_train]) == fixed[:votes_train]),
               "betavae.eval_accuracy": model.score(feats[votes_train:], fixed[votes_train:])},
              votes_train, votes_test)


def mse_and_bad_fixtures(out, rng):
    n = 50
    x = rng.integers(0, 256, (n, 4, 4, 1)).astype(np.uint8)
    xhat = (x / 255.0 + 0.05 * rng.standard_normal(x.shape)).astype(np.float32)
    write_stream(os.path.join(out, "mse.dqs"), [], [], {"x": x, "xhat": xhat})
    write_ref(os.path.join(out, "mse.ref"),
              {"mse.mse": np.mean((x / 255.0 - xhat.astype(np.float64)) ** 2)}, n, 0)

    # Small broken streams for the command-line robustness tests.
    s = factors(rng, 30, [3, 2])
    z = rng.standard_normal((30, 2)).astype(np.float32)
    write_stream(os.path.join(out, "bad_no_s.dqs"), ["a", "b"], [3, 2], {"z": z})
    write_stream(os.path.join(out, "bad_rows.dqs"), ["a", "b"], [3, 2], {"s": s, "z": z[:29]})
    zn = z.copy()
    zn[7, 1] = np.nan
    write_stream(os.path.join(out, "bad_nan.dqs"), ["a", "b"], [3, 2], {"s": s, "z": zn})
    zi = z.copy()
    zi[3, 0] = np.inf
    write_stream(os.path.join(out, "bad_inf.dqs"), ["a", "b"], [3, 2], {"s": s, "z": zi})
    write_stream(os.path.join(out, "betavae_odd.dqs"), ["a", "b"], [3, 2],
                 {"s": s[:6], "z": z[:6], "vote": np.array([0, 0, 0, 1, 1, 1], dtype=np.int32),
                  "fixed": np.zeros(6, dtype=np.int32)})
    s1 = s.copy()
    s1[:, 1] = 1
    write_stream(os.path.join(out, "bad_one_class.dqs"), ["a", "b"], [3, 2], {"s": s1, "z": z})


if __name__ == "__main__":
    main()
