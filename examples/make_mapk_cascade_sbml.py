"""Write `mapk_cascade.xml`: Kholodenko's MAPK cascade with negative feedback as SBML.

B. N. Kholodenko, "Negative feedback and ultrasensitivity can bring about
oscillations in the mitogen-activated protein kinase cascades", Eur. J. Biochem.
267, 1583-1588 (2000); BioModels BIOMD0000000010. The rate laws and values are the
paper's (Table 1 and Fig. 2: n = 1, Ki = 9, which oscillates), written the way
BioModels writes them: kinetic laws in amount per time (`uVol * ...`) with local
parameters `V1`, `K1`, ... in each reaction. Built with python-libsbml:

    python examples/make_mapk_cascade_sbml.py

and imported with `symflow import examples/mapk_cascade.xml -o examples/mapk_cascade.sf`.
"""

from __future__ import annotations

import pathlib

import libsbml

HERE = pathlib.Path(__file__).resolve().parent

SPECIES = {"MKKK": 90, "MKKK_P": 10, "MKK": 280, "MKK_P": 10, "MKK_PP": 10,
           "MAPK": 280, "MAPK_P": 10, "MAPK_PP": 10}

# id: (substrate, product, rate law per volume, local parameters)
REACTIONS = {
    "J0": ("MKKK", "MKKK_P", "V1*MKKK/((1 + (MAPK_PP/Ki)^n)*(K1 + MKKK))",
           {"V1": 2.5, "Ki": 9, "n": 1, "K1": 10}),
    "J1": ("MKKK_P", "MKKK", "V2*MKKK_P/(KK2 + MKKK_P)", {"V2": 0.25, "KK2": 8}),
    "J2": ("MKK", "MKK_P", "k3*MKKK_P*MKK/(KK3 + MKK)", {"k3": 0.025, "KK3": 15}),
    "J3": ("MKK_P", "MKK_PP", "k4*MKKK_P*MKK_P/(KK4 + MKK_P)", {"k4": 0.025, "KK4": 15}),
    "J4": ("MKK_PP", "MKK_P", "V5*MKK_PP/(KK5 + MKK_PP)", {"V5": 0.75, "KK5": 15}),
    "J5": ("MKK_P", "MKK", "V6*MKK_P/(KK6 + MKK_P)", {"V6": 0.75, "KK6": 15}),
    "J6": ("MAPK", "MAPK_P", "k7*MKK_PP*MAPK/(KK7 + MAPK)", {"k7": 0.025, "KK7": 15}),
    "J7": ("MAPK_P", "MAPK_PP", "k8*MKK_PP*MAPK_P/(KK8 + MAPK_P)", {"k8": 0.025, "KK8": 15}),
    "J8": ("MAPK_PP", "MAPK_P", "V9*MAPK_PP/(KK9 + MAPK_PP)", {"V9": 0.5, "KK9": 15}),
    "J9": ("MAPK_P", "MAPK", "V10*MAPK_P/(KK10 + MAPK_P)", {"V10": 0.5, "KK10": 15}),
}
NAMES = {"J0": "MAPKKK activation", "J1": "MAPKKK inactivation",
         "J2": "phosphorylation of MAPKK", "J3": "phosphorylation of MAPKK-P",
         "J4": "dephosphorylation of MAPKK-PP", "J5": "dephosphorylation of MAPKK-P",
         "J6": "phosphorylation of MAPK", "J7": "phosphorylation of MAPK-P",
         "J8": "dephosphorylation of MAPK-PP", "J9": "dephosphorylation of MAPK-P"}


def document() -> str:
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("Kholodenko2000_MAPK_feedback")
    m.setName("Kholodenko2000 - Ultrasensitivity and negative feedback bring oscillations "
              "in MAPK cascade")
    c = m.createCompartment()
    c.setId("uVol")
    c.setSize(1.0)
    c.setConstant(True)
    c.setSpatialDimensions(3)
    for sid, value in SPECIES.items():
        s = m.createSpecies()
        s.setId(sid)
        s.setCompartment("uVol")
        s.setInitialConcentration(value)
        s.setHasOnlySubstanceUnits(False)
        s.setBoundaryCondition(False)
        s.setConstant(False)
    for rid, (substrate, product, law, local) in REACTIONS.items():
        r = m.createReaction()
        r.setId(rid)
        r.setName(NAMES[rid])
        r.setReversible(False)
        for create, sid in ((r.createReactant, substrate), (r.createProduct, product)):
            ref = create()
            ref.setSpecies(sid)
            ref.setStoichiometry(1)
            ref.setConstant(True)
        for modifier in sorted(set(SPECIES) & set(law.replace("(", " ").replace(")", " ")
                                                  .replace("*", " ").replace("/", " ")
                                                  .replace("^", " ").replace("+", " ")
                                                  .split()) - {substrate}):
            r.createModifier().setSpecies(modifier)
        kl = r.createKineticLaw()
        kl.setMath(libsbml.parseL3Formula(f"uVol*{law}"))
        for pid, value in local.items():
            p = kl.createLocalParameter()
            p.setId(pid)
            p.setValue(value)
    return libsbml.writeSBMLToString(doc)


if __name__ == "__main__":
    (HERE / "mapk_cascade.xml").write_text(document())
