"""DICOM files de-identified by the PS3.15 Annex E Basic Application Level Confidentiality Profile."""
import hashlib
import hmac
from functools import cache

from django.conf import settings

# DICOM PS3.15 (2025) Annex E, Table E.1-1, "Basic Profile" column: the profile's action for each
# attribute, by keyword (by tag where pydicom 3.0 has no keyword). X remove, Z empty, D dummy value,
# U new UID; "X/Z" remove unless the IOD needs the attribute empty, and so on. Private attributes
# (removed) and the curve and overlay groups (below) complete the table.
_BASIC_PROFILE = {
    "X": """
        AcquisitionComments AcquisitionProtocolDescription ActualHumanPerformersSequence AdditionalPatientHistory
        AddressTrial AdmissionID AdmittingDate AdmittingDiagnosesCodeSequence AdmittingDiagnosesDescription
        AdmittingTime AffectedSOPInstanceUID Allergies AnnotationGroupDescription ApprovalStatusDateTime Arbitrary
        AssertionExpirationDateTime AuthorObserverSequence BeamDescription BolusDescription BranchOfService
        CalibrationDate CalibrationTime CameraOwnerName CassetteID CertifiedTimestamp
        ClinicalTrialProtocolEthicsCommitteeApprovalNumber ClinicalTrialSeriesDescription ClinicalTrialSeriesID
        ClinicalTrialTimePointDescription CommentsOnRadiationDose CommentsOnThePerformedProcedureStep
        CompensatorDescription ConfidentialityConstraintOnPatientDataDescription
        ConsultingPhysicianIdentificationSequence ContainerComponentID ContainerDescription
        ContentCreatorIdentificationCodeSequence ContrastBolusStartTime ContrastBolusStopTime ContributionDateTime
        ContributionDescription CountryOfResidence CreationDate CreationTime CurrentObserverTrial
        CurrentPatientLocation CurveDate CurveTime CustodialOrganizationSequence DataSetTrailingPadding
        DateOfDocumentOrVerbalTransactionTrial DateOfInstallation DateOfLastCalibration DateOfManufacture
        DateOfSecondaryCapture DateTimeOfLastCalibration DecompositionDescription DerivationDescription
        DeviceDescription DeviceSettingDescription DigitalSignaturesSequence DischargeDate
        DischargeDiagnosisDescription DischargeTime DisplacementReferenceLabel DistributionAddress DistributionName
        DoseReferenceDescription EntityDescription EntityName EquipmentFrameOfReferenceDescription
        EthicsCommitteeApprovalEffectivenessEndDate EthicsCommitteeApprovalEffectivenessStartDate EthnicGroup
        EthnicGroupCodeSequence ExpectedCompletionDateTime FilterLookupTableDescription
        FindingsGroupRecordingDateTrial FindingsGroupRecordingTimeTrial FixationDeviceDescription
        FractionGroupDescription FrameComments GantryID GeneratorID GPSAltitude GPSAltitudeRef GPSAreaInformation
        GPSDateStamp GPSDestBearing GPSDestBearingRef GPSDestDistance GPSDestDistanceRef GPSDestLatitude
        GPSDestLatitudeRef GPSDestLongitude GPSDestLongitudeRef GPSDifferential GPSDOP GPSImgDirection
        GPSImgDirectionRef GPSLatitude GPSLatitudeRef GPSLongitude GPSLongitudeRef GPSMapDatum GPSMeasureMode
        GPSProcessingMethod GPSSatellites GPSSpeed GPSSpeedRef GPSStatus GPSTimeStamp GPSTrack GPSTrackRef
        GPSVersionID HL7DocumentEffectiveTime HumanPerformerName HumanPerformerOrganization IconImageSequence
        IdentifyingComments ImageComments ImagePresentationComments ImagingServiceRequestComments Impressions
        InstanceCoercionDateTime InstanceOriginStatus InstitutionAddress InstitutionalDepartmentName
        InstitutionalDepartmentTypeCodeSequence InsurancePlanIdentification IntendedFractionStartTime
        IntendedRecipientsOfResultsIdentificationSequence InterpretationApprovalDate InterpretationApprovalTime
        InterpretationApproverSequence InterpretationAuthor InterpretationDiagnosisDescription InterpretationID
        InterpretationIDIssuer InterpretationRecordedDate InterpretationRecordedTime InterpretationRecorder
        InterpretationText InterpretationTranscriber InterpretationTranscriptionDate InterpretationTranscriptionTime
        InterventionDrugStartTime InterventionDrugStopTime IssueDateOfImagingServiceRequest IssuerOfAdmissionID
        IssuerOfAdmissionIDSequence IssuerOfClinicalTrialProtocolID IssuerOfClinicalTrialSeriesID
        IssuerOfClinicalTrialSiteID IssuerOfClinicalTrialSubjectID IssuerOfClinicalTrialSubjectReadingID
        IssuerOfClinicalTrialTimePointID IssuerOfPatientID IssuerOfServiceEpisodeID IssuerOfServiceEpisodeIDSequence
        IssueTimeOfImagingServiceRequest LastMenstrualDate LensMake LensModel LensSerialNumber LensSpecification
        LongDeviceDescription MAC MakerNote MedicalAlerts MedicalRecordLocator MilitaryRank
        ModifiedAttributesSequence ModifiedImageDate ModifiedImageDescription ModifiedImageTime ModifyingDeviceID
        MultienergyAcquisitionDescription NameOfPhysiciansReadingStudy NamesOfIntendedRecipientsOfResults NetworkID
        NonconformingDataElementValue NonconformingModifiedAttributesSequence ObservationDateTrial
        ObservationStartDateTime ObservationTimeTrial Occupation OrderCallbackPhoneNumber
        OrderCallbackTelecomInformation OrderEnteredBy OrderEntererLocation OriginalAttributesSequence Originator
        OtherClinicalTrialProtocolIDsSequence OtherPatientIDs OtherPatientIDsSequence OtherPatientNames OverlayDate
        OverlayTime ParticipantSequence PatientAddress PatientAge PatientBirthName PatientBirthTime PatientComments
        PatientInstitutionResidence PatientInsurancePlanCodeSequence PatientMotherBirthName
        PatientPrimaryLanguageCodeSequence PatientPrimaryLanguageModifierCodeSequence PatientReligiousPreference
        PatientSetupPhotoDescription PatientSize PatientState PatientTelecomInformation PatientTelephoneNumbers
        PatientTransportArrangements PatientTreatmentPreparationMethodDescription
        PatientTreatmentPreparationProcedureParameterDescription PatientWeight PerformedLocation
        PerformedProcedureStepDescription PerformedProcedureStepEndDate PerformedProcedureStepEndDateTime
        PerformedProcedureStepEndTime PerformedProcedureStepID PerformedProcedureStepStartDate
        PerformedProcedureStepStartDateTime PerformedProcedureStepStartTime PerformedStationAETitle
        PerformedStationGeographicLocationCodeSequence PerformedStationName PerformedStationNameCodeSequence
        PerformingPhysicianIdentificationSequence PerformingPhysicianName PersonAddress PersonTelecomInformation
        PersonTelephoneNumbers PhysicianApprovingInterpretation PhysiciansOfRecord
        PhysiciansOfRecordIdentificationSequence PhysiciansReadingStudyIdentificationSequence PlateID
        PositionAcquisitionTemplateDescription PositionAcquisitionTemplateName PregnancyStatus PreMedication
        PrescriptionDescription PresentationCreationDate PresentationCreationTime PriorTreatmentDoseDescription
        ProcedureStepCancellationDateTime ProductExpirationDateTime PyramidDescription PyramidLabel
        RadiopharmaceuticalStartDateTime RadiopharmaceuticalStartTime RadiopharmaceuticalStopDateTime
        RadiopharmaceuticalStopTime ReasonForOmissionDescription ReasonForRequestedProcedureCodeSequence
        ReasonForStudy ReasonForTheImagingServiceRequest ReasonForTheRequestedProcedure ReasonForVisit
        ReasonForVisitCodeSequence ReceivingAE ReferencedDigitalSignatureSequence ReferencedPatientAliasSequence
        ReferencedPatientPhotoSequence ReferencedPatientSequence ReferencedSOPInstanceMACSequence
        ReferringPhysicianAddress ReferringPhysicianIdentificationSequence ReferringPhysicianTelephoneNumbers
        RegionOfResidence RequestAttributesSequence RequestedContrastAgent RequestedProcedureComments
        RequestedProcedureID RequestedProcedureLocation RequestedSeriesDescription RequestingAE RequestingPhysician
        RequestingService RespiratoryMotionCompensationTechniqueDescription ResponsibleOrganization
        ResponsiblePerson ResultsComments ResultsDistributionListSequence ResultsID ResultsIDIssuer RetrieveAETitle
        ROICreatorSequence ROIDateTime ROIDescription ROIGenerationDescription ROIInterpreterSequence
        ROIObservationDateTime ROIObservationDescription ROIObservationLabel RTPlanDescription RTPlanName
        ScheduledAdmissionDate ScheduledAdmissionTime ScheduledDischargeDate ScheduledDischargeTime
        ScheduledHumanPerformersSequence ScheduledPatientInstitutionResidence
        ScheduledPerformingPhysicianIdentificationSequence ScheduledPerformingPhysicianName
        ScheduledProcedureStepDescription ScheduledProcedureStepEndDate ScheduledProcedureStepEndTime
        ScheduledProcedureStepExpirationDateTime ScheduledProcedureStepID ScheduledProcedureStepLocation
        ScheduledProcedureStepModificationDateTime ScheduledProcedureStepStartDate
        ScheduledProcedureStepStartDateTime ScheduledProcedureStepStartTime ScheduledStationAETitle
        ScheduledStationGeographicLocationCodeSequence ScheduledStationName ScheduledStationNameCodeSequence
        ScheduledStudyLocation ScheduledStudyLocationAETitle ScheduledStudyStartDate ScheduledStudyStartTime
        ScheduledStudyStopDate ScheduledStudyStopTime SeriesDescription ServiceEpisodeDescription ServiceEpisodeID
        SetupTechniqueDescription ShieldingDeviceDescription SlideIdentifier SmokingStatus SOPAuthorizationDateTime
        SourceManufacturer SpecialNeeds SpecimenAccessionNumber SpecimenDetailedDescription SpecimenShortDescription
        StationAETitle StructureSetDescription StructureSetName StudyArrivalDate StudyArrivalTime StudyComments
        StudyCompletionDate StudyCompletionTime StudyDescription StudyIDIssuer StudyReadDate StudyReadTime
        StudyVerifiedDate StudyVerifiedTime SubstanceAdministrationDateTime TelephoneNumberTrial
        TemplateLocalVersion TemplateVersion TextComments TextString TimeOfDocumentCreationOrVerbalTransactionTrial
        TimeOfLastCalibration TimeOfSecondaryCapture TimezoneOffsetFromUTC TopicAuthor TopicKeywords TopicSubject
        TopicTitle TransducerIdentificationSequence TreatmentSites UDISequence UniqueDeviceIdentifier
        VerbalSourceIdentifierCodeSequenceTrial VerbalSourceTrial VisitComments WaveformFilterDescription
        XRayDetectorLabel 00081301 00081302 00081303 00081304 00100011 00100012 00100013 00100014 00100015 00100016
        00100041 00100042 00100043 00100044 00100045 00100046 00100047 00102162 0040A034 0040A035 0040B034 0040B036
        0040B03B 0040B03F
    """,
    "Z": """
        AccessionNumber CalibrationDateTime ClinicalTrialCoordinatingCenterName ClinicalTrialProtocolName
        ClinicalTrialSiteID ClinicalTrialSiteName ClinicalTrialTimePointID ConceptualVolumeCombinationDescription
        ConceptualVolumeDescription ConsultingPhysicianName DeviceAlternateIdentifier
        FillerOrderNumberImagingServiceRequest FractionationNotes IssuerOfTheContainerIdentifierSequence
        IssuerOfTheSpecimenIdentifierSequence ManufacturerDeviceIdentifier ParticipationDateTime PatientBirthDate
        PatientID PatientName PatientSex PlacerOrderNumberImagingServiceRequest PrescriptionNotes
        PrescriptionNotesSequence RadiationGenerationModeDescription ReasonForSuperseding ReferringPhysicianName
        ReviewDate ReviewTime ROIInterpreter ROIName RTAccessoryDeviceSlotID RTAccessoryHolderSlotID
        RTPhysicianIntentNarrative SourceOfPreviousValues SpecimenPreparationSequence StructureSetDate
        StructureSetTime StudyDate StudyID StudyTime TreatmentTechniqueNotes
        VerifyingObserverIdentificationCodeSequence
    """,
    "D": """
        AcquisitionFieldOfViewLabel AnnotationGroupLabel AnnotationGroupUID AssertionDateTime
        AttributeModificationDateTime BeamHoldTransitionDateTime CertificateOfSigner
        ClinicalTrialProtocolEthicsCommitteeName ClinicalTrialProtocolID ClinicalTrialSponsorName
        ClinicalTrialSubjectID ClinicalTrialSubjectReadingID ContainerIdentifier ContentSequence
        ContextGroupLocalVersion ContextGroupVersion Date DateTime DecayCorrectionDateTime DestinationAE DeviceLabel
        DigitalSignatureDateTime EffectiveDateTime EncapsulatedDocument EntityLabel EntityLongLabel
        ExclusionStartDateTime FlowIdentifier FlowIdentifierSequence FrameAcquisitionDateTime FrameOriginTimestamp
        FrameReferenceDateTime FunctionalSyncPulse GraphicAnnotationSequence HangingProtocolCreationDateTime
        ImpedanceMeasurementDateTime InformationIssueDateTime InterlockDateTime InterlockDescription
        InterlockOriginDescription ModifyingSystem OverrideDateTime PersonIdentificationCodeSequence PersonName
        RadiationDoseIdentificationLabel RadiationDoseInVivoMeasurementLabel RadiationGenerationModeLabel
        ReasonForTheAttributeModification RecordedRTControlPointDateTime ReferencedDateTime RTPlanLabel
        RTPrescriptionLabel RTToleranceSetLabel SafePositionExitDate SafePositionExitTime SafePositionReturnDate
        SafePositionReturnTime SelectorAEValue SelectorASValue SelectorDAValue SelectorDTValue SelectorLOValue
        SelectorLTValue SelectorOBValue SelectorPNValue SelectorSHValue SelectorSTValue SelectorTMValue
        SelectorUNValue SelectorURValue SelectorUTValue SourceEndDateTime SourceIdentifier SourceStartDateTime
        SourceStrengthReferenceDate SourceStrengthReferenceTime SpecimenIdentifier StructureSetLabel Time
        TreatmentControlPointDate TreatmentControlPointTime TreatmentPositionGroupLabel
        TreatmentToleranceViolationDateTime TreatmentToleranceViolationDescription UserContentLabel
        UserContentLongLabel VerificationDateTime VerifyingObserverName VerifyingObserverSequence
        VerifyingOrganization XRayDetectorID XRaySourceID
    """,
    "U": """
        AcquisitionUID ConcatenationUID ConceptualVolumeUID ConstituentConceptualVolumeUID DeviceUID
        DigitalSignatureUID DimensionOrganizationUID DoseReferenceUID DosimetricObjectiveUID
        FailedSOPInstanceUIDList FiducialUID FrameOfReferenceUID InstanceCreatorUID IrradiationEventUID
        LargePaletteColorLookupTableUID ManufacturerDeviceClassUID MediaStorageSOPInstanceUID MultiplexGroupUID
        ObservationSubjectUIDTrial ObservationUID PaletteColorLookupTableUID PatientSetupUID
        PresentationDisplayCollectionUID PresentationSequenceCollectionUID PyramidUID ReferencedConceptualVolumeUID
        ReferencedDoseReferenceUID ReferencedDosimetricObjectiveUID ReferencedFiducialsUID
        ReferencedFrameOfReferenceUID ReferencedGeneralPurposeScheduledProcedureStepTransactionUID
        ReferencedObservationUIDTrial ReferencedSOPInstanceUID ReferencedSOPInstanceUIDInFile
        ReferencedTreatmentPositionGroupUID RelatedFrameOfReferenceUID RequestedSOPInstanceUID RTTreatmentPhaseUID
        SeriesInstanceUID SOPInstanceUID SourceConceptualVolumeUID SourceFrameOfReferenceUID SpecimenUID
        StorageMediaFileSetUID StudyInstanceUID SynchronizationFrameOfReferenceUID TableTopPositionAlignmentUID
        TargetUID TemplateExtensionCreatorUID TemplateExtensionOrganizationUID TrackingUID TransactionUID
        TreatmentPositionGroupUID TreatmentSessionUID UID
    """,
    "X/Z": """
        AcquisitionContextSequence AcquisitionDate AcquisitionTime BarcodeValue LabelText PatientSexNeutered
        ReferencedStudySequence RequestedProcedureDescription ReviewerName SourceSerialNumber TreatmentMachineName
    """,
    "X/D": """
        AcquisitionDeviceProcessingDescription DateOfLastDetectorCalibration DetectorID EndAcquisitionDateTime
        FirstTreatmentDate InstanceCreationDate IntendedPhaseEndDate IntendedPhaseStartDate MostRecentTreatmentDate
        ObservationDateTime OperatorIdentificationSequence ProtocolName RTPlanDate RTPlanTime
        RTTreatmentApproachLabel SeriesDate SeriesTime StartAcquisitionDateTime TimeOfLastDetectorCalibration
        TreatmentDate TreatmentSite TreatmentTime
    """,
    "Z/D": """
        ContentCreatorName ContentDate ContentTime ContrastBolusAgent InstructionPerformedDateTime
    """,
    "X/Z/D": """
        AcquisitionDateTime DeviceSerialNumber InstanceCreationTime InstitutionCodeSequence InstitutionName
        OperatorsName ReferencedPerformedProcedureStepSequence StationName
    """,
    "X/Z/U*": """
        ReferencedImageSequence SourceImageSequence
    """,
}
# How we apply the profile's choices without knowing each IOD's attribute types: whatever the profile
# empties ("Z", and "X/Z", "Z/D", "X/Z/D") is removed instead, which says no less and keeps no trace (the
# public copy is for reading, not for filing back into a PACS); "D" gets a dummy value consistent with
# the VR; "X/Z/U*" (lists of referenced images) keeps its items, whose UIDs are replaced like every "U".
# Person names (VR PN) are removed wherever they are, whatever the table says.
_EFFECTIVE_ACTION = {"X": "X", "Z": "X", "D": "D", "U": "U", "X/Z": "X", "X/D": "X", "Z/D": "X", "X/Z/D": "X",
                     "X/Z/U*": "K"}
_DUMMY_TEXT = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y", "IS": "0", "DS": "0"}
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT", "UR"})
_NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"})
# File meta entries that name the sending or receiving system, or carry private data.
_META_REMOVED = (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102)
DICOM_MAX_DEPTH = 16  # sequences nested deeper than this are removed, not walked
DEIDENTIFICATION_METHOD = "DICOM PS3.15 E.1 Basic Profile; UIDs replaced by keyed hash"


@cache
def _profile() -> dict[int, str]:
    from pydicom.datadict import tag_for_keyword

    table = {}
    for code, names in _BASIC_PROFILE.items():
        for name in names.split():
            tag = tag_for_keyword(name)
            table[int(name, 16) if tag is None else tag] = _EFFECTIVE_ACTION[code]
    return table


def _dicom_action(tag) -> str | None:
    group, element = tag >> 16, tag & 0xFFFF
    if 0x5000 <= group <= 0x50FF:  # curves (retired), every element
        return "X"
    if 0x6000 <= group <= 0x60FF and element in (0x3000, 0x4000):  # overlay data and comments
        return "X"
    return _profile().get(int(tag))


@cache
def _uid_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"anonymization.dicom-uid", hashlib.sha256).digest()


def _replacement_uid(uid) -> str:
    """UIDs are replaced, not kept: some systems build them from dates, device serial numbers or record
    numbers. A keyed hash (the key derived from SECRET_KEY) maps a UID to the same new one in every file
    this site publishes, so the series and images of one study stay linked across uploads, as the profile
    asks ("internally consistent"), while nobody without the key can recover or confirm the original."""
    uid = str(uid or "").strip().rstrip("\0")
    if not uid:
        return ""
    digest = hmac.new(_uid_key(), uid.encode(), hashlib.sha256).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def _dummy(vr: str):
    if vr in _DUMMY_TEXT:
        return _DUMMY_TEXT[vr]
    if vr in _TEXT_VRS:
        return "ANONYMIZED"
    if vr in _NUMBER_VRS:
        return 0
    return None  # binary and anything else: empty


def _deidentify(dataset, depth: int = 0) -> None:
    """Apply the profile to `dataset` and to every item of every sequence in it, however deep."""
    for tag in list(dataset.keys()):
        element = dataset[tag]
        action = "X" if tag.is_private else _dicom_action(tag)
        removed = action == "X" or element.VR == "PN" or (
            element.VR == "SQ" and (action == "D" or depth >= DICOM_MAX_DEPTH))  # no dummy sequences
        if removed:
            del dataset[tag]
        elif element.VR == "SQ":
            for item in element.value:
                _deidentify(item, depth + 1)
        elif action == "U" or (action == "D" and element.VR == "UI"):
            if element.VM > 1:
                element.value = [_replacement_uid(value) for value in element.value]
            else:
                element.value = _replacement_uid(element.value)
        elif action == "D":
            element.value = _dummy(element.VR)


def _strip_dicom(source, target) -> None:
    import pydicom
    from pydicom.dataset import Dataset

    dataset = pydicom.dcmread(source)
    _deidentify(dataset)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        for tag in _META_REMOVED:
            if tag in meta:
                del meta[tag]
        _deidentify(meta)  # MediaStorageSOPInstanceUID gets the same new UID as SOPInstanceUID
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    dataset.DeidentificationMethodCodeSequence = [code]
    dataset.LongitudinalTemporalInformationModified = "REMOVED"
    dataset.save_as(target)
